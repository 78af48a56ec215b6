"""Console forms (Flask-WTF): every POST carries a CSRF token and is validated before any change."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from civictracker.models.ticket import TicketStatus
from civictracker.web.params import coerce_id, form_id

PUBLIC_NOTE_MAX = 2000
ROLE_CHOICES = [SelectChoice("dispatcher"), SelectChoice("crew"), SelectChoice("admin")]
INTERNAL_NOTE_MAX = 4000


class ActionForm(FlaskForm):
    """No fields: a button whose only payload is the CSRF token (revoke, mark in progress...)."""


class StatusForm(FlaskForm):
    to_status = SelectField("New status", choices=[], validators=[DataRequired()])
    public_note = TextAreaField("Public note", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])
    internal_note = TextAreaField("Internal note", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)])


class AssignForm(FlaskForm):
    crew_id = IntegerField("Crew", validators=[InputRequired(), form_id(0)])  # 0: unassign
    public_note = TextAreaField("Public note", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])
    internal_note = TextAreaField("Internal note", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)])


class BulkAssignForm(FlaskForm):
    crew_id = IntegerField("Crew", validators=[InputRequired(), form_id()])
    ticket_ids = SelectMultipleField("Tickets", coerce=coerce_id, validate_choice=False)


class MergeForm(FlaskForm):
    into_id = IntegerField("Merge into ticket number", validators=[InputRequired(), form_id()])
    public_note = TextAreaField("Public note", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])


class LocationForm(FlaskForm):
    """A corrected place: a typed address or intersection (geocoded), else the dragged pin's point."""

    place = StringField("Address or intersection", validators=[Optional(), Length(max=300)])
    lat = FloatField("Latitude", validators=[Optional(), NumberRange(min=-90, max=90)])
    lon = FloatField("Longitude", validators=[Optional(), NumberRange(min=-180, max=180)])
    public_note = TextAreaField("Word to the resident", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])
    internal_note = TextAreaField("Why", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def,override]
        if not super().validate(extra_validators):
            return False
        if not (self.place.data or "").strip() and (self.lat.data is None or self.lon.data is None):
            self.place.errors = ["type a place, or give both latitude and longitude"]  # type: ignore[assignment]
            return False
        return True


URGENCY_CHOICES = [
    SelectChoice("", "keep"),
    SelectChoice("urgent", "urgent"),
    SelectChoice("normal", "not urgent"),
]


class CorrectionForm(FlaskForm):
    """A corrected category or urgency; the service choices are the active catalog, set by the view."""

    service_code = SelectField("Category", choices=[], validators=[Optional()])
    urgency = SelectField("Urgency", choices=URGENCY_CHOICES, validators=[Optional()])
    public_note = TextAreaField("Word to the resident", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])
    internal_note = TextAreaField("Internal note", validators=[Optional(), Length(max=INTERNAL_NOTE_MAX)])


class CrewWorkForm(FlaskForm):
    to_status = SelectField(
        "Mark",
        choices=[
            SelectChoice(TicketStatus.IN_PROGRESS.value, "In progress"),
            SelectChoice(TicketStatus.RESOLVED.value, "Resolved"),
        ],
    )
    public_note = TextAreaField("Note", validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)])


def crew_choice(value: object) -> int | None:
    """A crew select's value: a crew id, or None for "no crew" (the empty option)."""
    if value in (None, "", "None"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValueError("Choose a crew from the list.") from None


class UserCreateForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=500)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    # Choices: "no crew" and the crews by name, set by the view (crew accounts need one).
    crew_id = SelectField("Crew (crew accounts)", coerce=crew_choice, choices=[])


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")
    crew_id = SelectField("Crew", coerce=crew_choice, choices=[])


class CrewForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    # Choices are the service catalog, set by the view; a checkbox per service.
    services = SelectMultipleField(
        "Services it handles",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    address = StringField("Home base: address or intersection", validators=[Optional(), Length(max=300)])
    lat = FloatField("Latitude", validators=[Optional(), NumberRange(min=-90, max=90)])
    lon = FloatField("Longitude", validators=[Optional(), NumberRange(min=-180, max=180)])
    available = BooleanField("Available", default=True)
    active = BooleanField("Active", default=True)


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    sla_hours = IntegerField("SLA hours", validators=[InputRequired(), NumberRange(min=1, max=24 * 365)])
    active = BooleanField("Active")
    keywords = TextAreaField("Keywords (comma-separated)", validators=[Optional(), Length(max=4000)])


class ApiKeyForm(FlaskForm):
    name = StringField("Who uses the key", validators=[DataRequired(), Length(max=120)])


class ReplyTemplateForm(FlaskForm):
    """An admin's wording of one template; the service checks placeholders, tags and lengths."""

    text = TextAreaField("Text", validators=[Optional(), Length(max=8000)])
    title = StringField("Button title (canned replies)", validators=[Optional(), Length(max=400)])
