"""The inbox's forms (Flask-WTF): every action carries a CSRF token and is bounded before any change."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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
