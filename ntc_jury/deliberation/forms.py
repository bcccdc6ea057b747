from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class OpenForm(FlaskForm):
    acknowledge = BooleanField(
        _l("J'ouvre la délibération en connaissance des grilles non terminées ou non synchronisées")
    )


class DecisionForm(FlaskForm):
    level = HiddenField()  # competency | ccp | title | presence
    subject_id = IntegerField(validators=[Optional()])
    outcome = StringField()
    reason = TextAreaField(_l("Motif"), validators=[Length(max=4000)])
    anchor = HiddenField()


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Motif de la réouverture"), validators=[Length(max=4000)])
