"""Households: bins, lifts counted from the waste signal, bills, cards, centre access."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.personal.households import services
from alzette.personal.households.models import (
    BinAllocation,
    CentreCard,
    CentreVisit,
    Household,
    HouseholdLift,
    LedgerRecord,
)
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

BIN = "bin-57038-001"
URN = "urn:ngsi-ld:WasteContainer:bin-57038-001"


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def household(citizen):
    return services.create_household("57038", "AUD-0001", members=[citizen])


@pytest.fixture
def centre(territory):
    from alzette.territory.waste.models import Centre

    return Centre.objects.using("territory").create(
        slug="audun",
        name="Déchèterie d'Audun",
        lon=5.95,
        lat=49.47,
        commune="57038",
        capacity=2,
        visits_per_year=3,
    )


def test_allocating_a_bin_is_recorded_in_the_ledger(household):
    allocation = services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 1, 1))
    assert allocation.bin_id == URN
    record = LedgerRecord.objects.get(kind="household.bin_allocated")
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert entry.object == f"bin-allocation:{allocation.pk}"
    assert record.payload["bin"] == URN


def test_reallocating_a_bin_ends_the_previous_allocation(household):
    other = services.create_household("57038", "AUD-0002")
    services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 1, 1))
    services.allocate_bin(other, BIN, "system:test", starts_on=date(2026, 6, 1))
    first = BinAllocation.objects.get(household=household)
    assert first.ends_on == date(2026, 6, 1)
    assert services.holder_on(BIN, date(2026, 5, 31)) == household
    assert services.holder_on(BIN, date(2026, 6, 1)) == other
    assert services.holder_on(BIN, date(2025, 12, 31)) is None


def test_a_bin_cannot_be_allocated_twice_to_the_same_household_or_backwards(household):
    services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 3, 1))
    with pytest.raises(ValidationError):
        services.allocate_bin(household, BIN, "system:test")
    other = services.create_household("57038", "AUD-0002")
    with pytest.raises(ValidationError):
        services.allocate_bin(other, BIN, "system:test", starts_on=date(2026, 2, 1))


def test_a_bad_bin_id_is_refused(household):
    with pytest.raises(ValidationError):
        services.allocate_bin(household, "bin with spaces", "system:test")


def test_the_waste_signal_counts_a_lift_once_for_the_holder(household):
    from alzette.territory.waste.signals import lift_recorded

    services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 1, 1))
    when = at(date(2026, 3, 2))
    lift_recorded.send(sender=None, bin_id=URN, lifted_at=when, weight_kg=12.5, lift_id=7)
    lift_recorded.send(sender=None, bin_id=URN, lifted_at=when, weight_kg=12.5, lift_id=7)
    lift = HouseholdLift.objects.get()
    assert (lift.household, lift.lift_id, lift.weight_kg) == (household, 7, 12.5)


def test_a_lift_of_an_unallocated_bin_or_before_the_allocation_is_not_counted(household):
    from alzette.territory.waste.signals import lift_recorded

    services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 3, 1))
    lift_recorded.send(
        sender=None, bin_id=URN, lifted_at=at(date(2026, 2, 27)), weight_kg=None, lift_id=1
    )
    lift_recorded.send(
        sender=None,
        bin_id="bin-57038-999",
        lifted_at=at(date(2026, 3, 5)),
        weight_kg=3.0,
        lift_id=2,
    )
    assert not HouseholdLift.objects.exists()


def _lifts(household, count: int, start: date, weight: float = 10.0) -> None:
    for n in range(count):
        HouseholdLift.objects.create(
            household=household,
            bin_id=URN,
            lifted_at=at(start + timedelta(days=7 * n)),
            weight_kg=weight,
            lift_id=1000 + n,
        )


def test_the_bill_prices_extra_lifts_and_weight_and_projects_to_the_year_end(household, citizen):
    services.set_tariff(
        "57038",
        2026,
        fixed_eur=Decimal("100"),
        per_lift_eur=Decimal("3"),
        per_kg_eur=Decimal("0.2"),
        included_lifts=4,
    )
    _lifts(household, 6, date(2026, 1, 5))
    bill = services.bill_for(household, 2026, today=date(2026, 3, 1))  # day 60 of 365
    assert (bill.lifts, bill.extra_lifts, bill.lifts_eur) == (6, 2, Decimal("6.00"))
    assert (bill.weight_kg, bill.weight_eur) == (Decimal("60.0"), Decimal("12.00"))
    assert bill.total_eur == Decimal("118.00")
    assert bill.days_elapsed == 60
    assert bill.projected_lifts == round(6 * 365 / 60)  # 36
    assert bill.projected_total_eur == Decimal("100") + 32 * 3 + Decimal("365.0") * Decimal("0.2")


def test_the_territory_tariff_applies_without_a_commune_tariff(household):
    services.set_tariff(
        "",
        2026,
        fixed_eur=Decimal("90"),
        per_lift_eur=Decimal("2"),
        per_kg_eur=Decimal("0"),
        included_lifts=0,
    )
    bill = services.bill_for(household, 2026, today=date(2026, 12, 31))
    assert (bill.tariff_commune, bill.total_eur, bill.projected_total_eur) == ("", 90, 90)
    assert services.bill_for(household, 2025) is None


def test_estimated_bill_and_lifts_for_read_only_the_persons_household(household, citizen):
    services.set_tariff(
        "",
        2026,
        fixed_eur=Decimal("90"),
        per_lift_eur=Decimal("2"),
        per_kg_eur=Decimal("0"),
        included_lifts=0,
    )
    _lifts(household, 3, date(2026, 2, 2))
    neighbour = services.create_household("57038", "AUD-0002")
    HouseholdLift.objects.create(
        household=neighbour, bin_id=URN, lifted_at=at(date(2026, 2, 3)), lift_id=5
    )
    assert len(services.lifts_for(citizen, 2026)) == 3
    assert services.lifts_for(citizen, 2025) == []
    stranger = UserFactory(email="other@example.org")
    assert services.lifts_for(stranger, 2026) == []
    assert services.estimated_bill(stranger, 2026) is None
    assert services.estimated_bill(citizen, 2026).lifts == 3


def test_a_card_is_stored_as_a_keyed_digest_and_plates_are_normalised(household):
    card = services.register_card(household, "plate", "ab-123 cd")
    assert card.last_chars == "3CD"
    assert "AB123CD" not in card.digest and len(card.digest) == 64
    assert services.find_card(plate="AB 123-CD") == card
    assert services.find_card(badge="AB123CD") is None  # a badge is not a plate
    with pytest.raises(ValidationError):
        services.register_card(household, "plate", "AB123CD")  # already registered
    with pytest.raises(ValidationError):
        services.register_card(household, "passport", "X12345")
    with pytest.raises(ValidationError):
        services.register_card(household, "badge", "--")


def test_gate_keys_are_hashed_and_revocable():
    key = services.issue_gate_key("audun")
    assert services.gate_key_valid("audun", key)
    assert not services.gate_key_valid("villerupt", key)
    assert not services.gate_key_valid("audun", key + "x")
    assert not services.gate_key_valid("audun", None)
    from alzette.personal.households.models import GateKey

    assert key not in GateKey.objects.get().key_hash
    services.revoke_gate_keys("audun")
    assert not services.gate_key_valid("audun", key)


def test_access_counts_visits_against_the_quota(household, centre):
    services.register_card(household, "badge", "B-1")
    first = services.decide_access("audun", badge="b-1")
    assert (first.allowed, first.reason, first.remaining) == (True, "allowed", 2)
    services.record_exit("audun")
    assert services.decide_access("audun", badge="B-1").remaining == 1
    services.record_exit("audun")
    assert services.decide_access("audun", badge="B-1").remaining == 0
    services.record_exit("audun")
    refused = services.decide_access("audun", badge="B-1")
    assert (refused.allowed, refused.reason) == (False, "quota_exhausted")
    assert CentreVisit.objects.filter(allowed=True).count() == 3
    record = LedgerRecord.objects.get(kind="centre.access_refused")
    assert "B-1" not in str(record.payload) and record.payload["reason"] == "quota_exhausted"


def test_access_is_refused_when_the_centre_is_full(household, centre, citizen):
    from alzette.territory.waste.models import CentrePassage
    from alzette.territory.waste.services import centre_occupancy

    services.register_card(household, "badge", "B-1")
    services.decide_access("audun", badge="B-1")
    services.decide_access("audun", badge="B-1")
    full = services.decide_access("audun", badge="B-1")
    assert (full.allowed, full.reason, full.remaining) == (False, "full", 1)
    assert centre_occupancy("audun")["inside"] == 2
    assert CentrePassage.objects.using("territory").filter(allowed=False).count() == 1


def test_access_is_refused_to_unknown_cards_and_non_residents(household, centre):
    unknown = services.decide_access("audun", plate="ZZ999ZZ")
    assert (unknown.allowed, unknown.reason) == (False, "unknown_card")
    outsider = services.create_household("57463", "THI-0001")  # Thionville: not in the EPCI
    services.register_card(outsider, "plate", "XY-456-ZT")
    refused = services.decide_access("audun", plate="XY456ZT")
    assert (refused.allowed, refused.reason) == (False, "not_resident")
    assert LedgerRecord.objects.filter(kind="centre.access_refused").count() == 2
    assert not CentreVisit.objects.filter(household=household).exists()


def test_access_to_an_unknown_centre_raises(territory):
    with pytest.raises(services.UnknownCentre):
        services.decide_access("nowhere", badge="B-1")


def test_erasing_the_last_member_erases_the_household(household, citizen):
    services.allocate_bin(household, BIN, "system:test", starts_on=date(2026, 1, 1))
    _lifts(household, 2, date(2026, 1, 5))
    services.register_card(household, "badge", "B-1")
    shared = services.create_household(
        "57038", "AUD-0002", members=[citizen, UserFactory(email="x@example.org")]
    )
    citizen.delete()
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not HouseholdLift.objects.exists() and not CentreCard.objects.exists()
    assert Household.objects.filter(pk=shared.pk).exists()


def test_my_data_lists_the_household_without_card_values(household, citizen):
    from alzette.personal.mydata.services import collect

    services.register_card(household, "badge", "SECRET-BADGE-42")
    _lifts(household, 2, date(2026, 1, 5))
    data = collect(citizen)
    assert data["households"][0]["reference"] == "AUD-0001"
    assert len(data["bin_lifts"]) == 2
    assert data["centre_cards"] == [
        {"kind": "badge", "ends_with": "-42", "created_at": data["centre_cards"][0]["created_at"]}
    ]
    assert "SECRET" not in str(data)
    assert collect(UserFactory(email="y@example.org"))["households"] == []


def test_demo_households(territory):
    from alzette.personal.accounts.models import User
    from alzette.personal.households.demo import DEMO_REFERENCE, ensure_demo_households

    citizen = User.objects.create_user("citoyen@demo.alzette.eu", "x")
    counts = ensure_demo_households(today=date(2026, 6, 30))
    again = ensure_demo_households(today=date(2026, 6, 30))
    assert counts == again and counts["households"] == 41
    assert services.household_of(citizen).reference == DEMO_REFERENCE
    assert services.find_card(badge="DEMO-BADGE-0001").household.reference == DEMO_REFERENCE
    # The synthetic households hold bins of the demo equipment and badges of their own.
    one = services.find_card(badge="DEMO-BADGE-0002").household
    assert one.reference == "DEMO-SYN-57038-001"
    assert one.bins.get().bin_id == "urn:ngsi-ld:WasteContainer:bin-57038-002"
    assert HouseholdLift.objects.filter(lift_id__gte=0).count() == 0
    assert services.bill_for(services.household_of(citizen), 2026, today=date(2026, 6, 30))
