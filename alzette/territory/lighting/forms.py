"""Forms of the lighting pages: a policy with a fixed number of step rows (works without
JavaScript), a calendar override, and the "what is planned" lookup. Levels are typed
in percent here, kept as 0..1 by the services, which do the real checking."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

STEP_ROWS = 8
WEEKDAYS = (
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
    (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday")),
)  # fmt: skip
ANCHORS = (("", _("(no step)")), ("sunset", _("at sunset")), ("sunrise", _("at sunrise")),
           ("time", _("at a time")))  # fmt: skip
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=LOCAL_INPUT, **kwargs)


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    commune = forms.ChoiceField(label=_("Commune"))
    groups = forms.MultipleChoiceField(
        label=_("Streets (groups)"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every street of the commune."),
    )  # fmt: skip
    priority = forms.IntegerField(
        label=_("Priority"), initial=0, min_value=-100, max_value=100,
        help_text=_("Where several policies apply, the highest priority wins."),
    )  # fmt: skip
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    valid_from = forms.DateField(label=_("First night"), required=False, widget=DateInput())
    valid_to = forms.DateField(label=_("Last night"), required=False, widget=DateInput())
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Nights starting on"), choices=WEEKDAYS, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every night."),
    )  # fmt: skip

    def __init__(self, *args: Any, communes: dict[str, str], groups: list[Any],
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = list(communes.items())
        names = communes
        self.fields["groups"].choices = [
            (g.id, f"{names.get(g.commune, g.commune)} — {g.name.split(', ', 1)[-1]}")
            for g in groups if g.commune in communes
        ]  # fmt: skip
        for n in range(STEP_ROWS):
            self.fields[f"step_{n}_at"] = forms.ChoiceField(
                label=_("When"), choices=ANCHORS, required=False
            )
            self.fields[f"step_{n}_time"] = forms.TimeField(
                label=_("Time (if at a time)"), required=False, widget=TimeInput(format="%H:%M")
            )
            self.fields[f"step_{n}_offset"] = forms.IntegerField(
                label=_("Offset (minutes)"), required=False, min_value=-240, max_value=240
            )
            self.fields[f"step_{n}_level"] = forms.DecimalField(
                label=_("Level (percent)"), required=False, min_value=0, max_value=100,
                decimal_places=1)  # fmt: skip

    @staticmethod
    def initial_for(policy: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name, "commune": policy.commune, "groups": list(policy.groups),
            "priority": policy.priority, "enabled": policy.enabled,
            "valid_from": policy.valid_from, "valid_to": policy.valid_to,
            "weekdays": list(policy.weekdays),
        }  # fmt: skip
        for n, step in enumerate(policy.steps[:STEP_ROWS]):
            timed = step["at"] not in ("sunset", "sunrise")
            initial[f"step_{n}_at"] = "time" if timed else step["at"]
            initial[f"step_{n}_time"] = step["at"] if timed else ""
            initial[f"step_{n}_offset"] = step.get("offset") or 0
            initial[f"step_{n}_level"] = round(float(step["level"]) * 100, 1)
        return initial

    def step_rows(self) -> list[dict[str, Any]]:
        return [{"n": n, "number": n + 1, "at": self[f"step_{n}_at"],
                 "time": self[f"step_{n}_time"],
                 "offset": self[f"step_{n}_offset"], "level": self[f"step_{n}_level"]}
                for n in range(STEP_ROWS)]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        steps: list[dict[str, Any]] = []
        self.step_rows_used: list[int] = []
        for n in range(STEP_ROWS):
            anchor = data.get(f"step_{n}_at") or ""
            if not anchor:
                continue
            if anchor == "time":
                moment = data.get(f"step_{n}_time")
                if moment is None:
                    if f"step_{n}_time" not in self.errors:
                        self.add_error(f"step_{n}_time", _("Give the time of this step."))
                    continue
                at = moment.strftime("%H:%M")
            else:
                at = anchor
            level = data.get(f"step_{n}_level")
            if level is None:
                if f"step_{n}_level" not in self.errors:
                    self.add_error(f"step_{n}_level", _("Give the level of this step."))
                continue
            steps.append({"at": at, "offset": data.get(f"step_{n}_offset") or 0,
                          "level": round(float(level) / 100, 4)})  # fmt: skip
            self.step_rows_used.append(n)
        if not steps and not any(k.startswith("step_") for k in self.errors):
            self.add_error(None, _("Give at least one step."))
        data["steps"] = steps
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(name) for name in
                ("name", "commune", "groups", "priority", "enabled", "valid_from", "valid_to",
                 "weekdays", "steps")}  # fmt: skip

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Put the services' errors (``steps.<n>.<field>``...) on the form's fields."""
        rows = getattr(self, "step_rows_used", [])
        for key, messages in message_dict.items():
            field: str | None = key if key in self.fields else None
            parts = key.split(".")
            if parts[0] == "steps" and len(parts) >= 2 and parts[1].isdigit():
                index = int(parts[1])
                row = rows[index] if index < len(rows) else None
                what = parts[2] if len(parts) > 2 else "at"
                if row is not None:
                    if what == "at":
                        timed = self.cleaned_data.get(f"step_{row}_at") == "time"
                        field = f"step_{row}_{'time' if timed else 'at'}"
                    elif what in ("offset", "level"):
                        field = f"step_{row}_{what}"
            for message in messages:
                if field is not None and field in self.fields and field not in self.errors:
                    self.add_error(field, message)
                else:
                    self.add_error(None, message)


class OverrideForm(forms.Form):
    MODES = (("level", _("a level")), ("policy", _("the steps of a policy")))

    commune = forms.ChoiceField(label=_("Commune"))
    groups = forms.MultipleChoiceField(
        label=_("Streets (groups)"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every street of the commune."),
    )  # fmt: skip
    start = forms.DateTimeField(label=_("Start"), widget=DateTimeInput(),
                                input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"])  # fmt: skip
    end = forms.DateTimeField(label=_("End"), widget=DateTimeInput(),
                              input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"])  # fmt: skip
    mode = forms.ChoiceField(label=_("Lamps follow"), choices=MODES, initial="level",
                             widget=forms.RadioSelect)  # fmt: skip
    level = forms.DecimalField(label=_("Level (percent)"), required=False, min_value=0,
                               max_value=100, decimal_places=1)  # fmt: skip
    policy = forms.ChoiceField(label=_("Policy to follow"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             help_text=_("For instance: Christmas market, 14 July."))  # fmt: skip

    def __init__(self, *args: Any, communes: dict[str, str], groups: list[Any],
                 policies: list[Any], **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = list(communes.items())
        self.fields["groups"].choices = [
            (g.id, f"{communes.get(g.commune, g.commune)} — {g.name.split(', ', 1)[-1]}")
            for g in groups if g.commune in communes
        ]  # fmt: skip
        self.fields["policy"].choices = [("", "—")] + [
            (str(p.pk), f"{communes.get(p.commune, p.commune)} — {p.name}")
            for p in policies if p.commune in communes
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == "level" and data.get("level") is None and "level" not in self.errors:
            self.add_error("level", _("Give the level."))
        if data.get("mode") == "policy" and not data.get("policy") and "policy" not in self.errors:
            self.add_error("policy", _("Choose the policy to follow."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        by_level = data.get("mode") == "level"
        return {"commune": data.get("commune"), "groups": data.get("groups") or [],
                "start": data.get("start"), "end": data.get("end"),
                "level": float(data["level"]) / 100 if by_level else None,
                "policy": None if by_level else data.get("policy"),
                "reason": data.get("reason")}  # fmt: skip

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        for key, messages in message_dict.items():
            for message in messages:
                if key in self.fields and key not in self.errors:
                    self.add_error(key, message)
                else:
                    self.add_error(None, message)


class LookupForm(forms.Form):
    target = forms.CharField(label=_("Lamp, group (NGSI-LD id) or commune (INSEE code)"),
                             max_length=255)  # fmt: skip
    at = forms.DateTimeField(label=_("At"), widget=DateTimeInput(),
                             input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"])  # fmt: skip
