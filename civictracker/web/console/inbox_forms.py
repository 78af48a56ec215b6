"""The inbox's forms (Flask-WTF): every action carries a CSRF token and is bounded before any change."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from civictracker.models.media import MediaReview
from civictracker.web.params import form_id

# Longer than any platform allows (an X DM: 10,000): the service says the channel's own limit.
REPLY_MAX = 10_000
NOTE_MAX = 2000


class InboxReplyForm(FlaskForm):
    text = TextAreaField("Reply", validators=[Optional(), Length(max=REPLY_MAX)])
    canned = HiddenField("Canned reply", validators=[Optional(), Length(max=64)])


class InboxTicketForm(FlaskForm):
    service = SelectField("Service", choices=[], validators=[DataRequired()])
    place = StringField("Place (address or corner)", validators=[DataRequired(), Length(max=300)])


class InboxAttachForm(FlaskForm):
    ticket_id = IntegerField("Ticket number", validators=[InputRequired(), form_id()])


class InboxAssignForm(FlaskForm):
    user_id = IntegerField("Colleague", validators=[InputRequired(), form_id(0)])  # 0: nobody
    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)])


class InboxNoteForm(FlaskForm):
    """Mark handled (why, optional) or hide (why, required by the service)."""

    note = TextAreaField("Why", validators=[Optional(), Length(max=NOTE_MAX)])


class MediaReviewForm(FlaskForm):
    """Approve or reject one photo for public view; the two buttons carry the decision."""

    decision = SelectField(
        "Decision",
        choices=[
            SelectChoice(MediaReview.APPROVED.value, "approve"),
            SelectChoice(MediaReview.REJECTED.value, "reject"),
        ],
        validators=[DataRequired()],
    )
    note = TextAreaField("Why", validators=[Optional(), Length(max=NOTE_MAX)])
    back = HiddenField("Back to", validators=[Optional(), Length(max=16)])


class InboxTakeBackForm(FlaskForm):
    """Reopen a handled or hidden post: why (required by the service) and the state the page showed."""

    reason = TextAreaField("Why", validators=[Optional(), Length(max=NOTE_MAX)])
    seen = HiddenField("State seen", validators=[Optional(), Length(max=16)])
