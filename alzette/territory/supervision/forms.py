"""Forms of the supervision pages: alert rules without code, filters, comments."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from alzette.territory.supervision import health, services
from alzette.territory.supervision.models import Alert, AlertRule

_BLANK = [("", "—")]


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    entity_type = forms.CharField(
        label=_("Entity type"), max_length=200, initial="WasteContainer",
        widget=forms.TextInput(attrs={"list": "entity-types"}),
        help_text=_("The NGSI-LD type of the watched entities, e.g. WasteContainer."),
    )  # fmt: skip
    attribute = forms.CharField(
        label=_("Attribute"), max_length=200, required=False, initial="fillingLevel",
        help_text=_("e.g. fillingLevel; location for a geofence."),
    )  # fmt: skip
    entity_pattern = forms.CharField(
        label=_("Entity id pattern"), max_length=300, required=False,
        help_text=_("Optional; * stands for any text: urn:ngsi-ld:WasteContainer:bin-57038-*"),
    )  # fmt: skip
    commune = forms.CharField(
        label=_("Only in the commune"), max_length=5, required=False,
        help_text=_("Optional INSEE code, e.g. 57038."),
    )  # fmt: skip
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[c for c in AlertRule.Kind.choices if c[0] != AlertRule.Kind.DETECTOR],
    )
    operator = forms.ChoiceField(
        label=_("Comparison"), choices=_BLANK + AlertRule.Operator.choices, required=False
    )
    value = forms.FloatField(
        label=_("Value"), required=False,
        help_text=_("Threshold: the limit. Rate: the change per hour."),
    )  # fmt: skip
    minutes = forms.IntegerField(
        label=_("Minutes"), required=False, min_value=1, max_value=525_600,
        help_text=_("Rate: the window measured. No data: the silence allowed."),
    )  # fmt: skip
    area_commune = forms.CharField(
        label=_("Geofence: commune"), max_length=5, required=False,
        help_text=_("INSEE code of the area; or give a polygon below."),
    )  # fmt: skip
    area = forms.CharField(
        label=_("Geofence: polygon (GeoJSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    direction = forms.ChoiceField(
        label=_("Geofence: alert when the entity"),
        choices=_BLANK + AlertRule.Direction.choices, required=False,
    )  # fmt: skip
    severity = forms.ChoiceField(
        label=_("Severity"), choices=AlertRule.Severity.choices, initial="warning"
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    @classmethod
    def for_rule(cls, rule: AlertRule) -> RuleForm:
        initial = {name: getattr(rule, name) for name in services.RULE_FIELDS}
        initial["area"] = json.dumps(rule.area) if rule.area else ""
        initial["operator"] = rule.operator or ""
        return cls(initial=initial)

    def clean_area(self) -> Any:
        text = self.cleaned_data.get("area") or ""
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ValidationError(_("The polygon is not valid JSON.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.rule_fields = services.check_rule(data)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data


class DeviceFilter(forms.Form):
    commune = forms.CharField(label=_("Commune (INSEE code)"), max_length=5, required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("all")), (health.OK, _("ok")), (health.LOW_BATTERY, _("low battery")),
                 (health.OFFLINE, _("offline"))],
    )  # fmt: skip
    q = forms.CharField(label=_("Name contains"), max_length=100, required=False)


class AlertFilter(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), required=False,
        choices=[("", _("open")), *Alert.State.choices, ("all", _("all"))],
    )  # fmt: skip
    #: One rule's alerts (the link of an alert digest e-mail).
    rule = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
