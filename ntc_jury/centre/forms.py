"""Forms of the centre's pages; every message is French source text (Flask-Babel)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..core.vocabulary import Presence, Route, SessionState
from ..labels import PRESENCE_LABELS

NO_MANAGER = 0
_NEEDS_CIRCUMSTANCES = frozenset(p.value for p in Presence if p.needs_circumstances)
# A date input sends ISO dates; someone typing by hand writes them the French way.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class TypedDateField(DateField):
    """A date from a date input or typed by hand; a wrong one is told the format to use
    (WTForms only says « N'est pas une date valide »)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                _("Date invalide : saisissez-la au format jj/mm/aaaa (par exemple 14/03/2026).")
            ) from None


def _required(message):
    return DataRequired(message)


class SessionForm(FlaskForm):
    format_id = SelectField(
        _l("Type de session et version du référentiel"),
        coerce=int,
        invalid_value_message=_l("Choisissez un type de session de la liste."),
        invalid_choice_message=_l("Choisissez un type de session de la liste."),
        validators=[InputRequired(_l("Choisissez le type de session."))],
    )
    centre = StringField(
        _l("Centre"), validators=[_required(_l("Saisissez le centre.")), Length(max=200)]
    )
    site = StringField(_l("Site"), validators=[Length(max=200)])
    rooms = StringField(
        _l("Salles (séparées par des virgules)"),
        validators=[Length(max=300)],
        description=_l("La première salle accueille l'écrit, la dernière le jury."),
    )
    starts_on = TypedDateField(
        _l("Premier jour"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Saisissez la date du premier jour (jj/mm/aaaa)."))],
    )
    ends_on = TypedDateField(_l("Dernier jour"), format=DATE_FORMATS, validators=[Optional()])
    ceres_number = StringField(_l("Numéro de session CERES"), validators=[Length(max=40)])
    manager_id = SelectField(
        _l("Responsable de session"),
        coerce=int,
        default=NO_MANAGER,
        invalid_value_message=_l("Choisissez un compte de la liste."),
        invalid_choice_message=_l("Choisissez un compte de la liste."),
    )
    manager_name = StringField(
        _l("Nom du responsable imprimé sur les documents"),
        validators=[Length(max=200)],
        description=_l("Laissez vide pour reprendre le nom du compte choisi."),
    )

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Le dernier jour précède le premier jour."))


class StateForm(FlaskForm):
    target = SelectField(
        choices=[SelectChoice(state.value, state.value) for state in SessionState],
        invalid_choice_message=_l("État inconnu."),
        validators=[InputRequired(_l("Choisissez le nouvel état."))],
    )


class JuryMemberForm(FlaskForm):
    first_name = StringField(
        _l("Prénom"), validators=[_required(_l("Saisissez le prénom.")), Length(max=100)]
    )
    last_name = StringField(
        _l("Nom"), validators=[_required(_l("Saisissez le nom.")), Length(max=100)]
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            _required(_l("Saisissez l'adresse e-mail.")),
            Email(_l("Adresse e-mail invalide.")),
            Length(max=254),
        ],
    )
    habilitation_number = StringField(_l("Numéro d'habilitation"), validators=[Length(max=60)])
    habilitation_valid_until = TypedDateField(
        _l("Habilitation valable jusqu'au"), format=DATE_FORMATS, validators=[Optional()]
    )
    chair = BooleanField(_l("Président du jury"))
    present = BooleanField(_l("Présent(e) le jour de l'examen"), default=True)


ECF_CHOICES = [
    SelectChoice("", _l("Non renseigné")),
    SelectChoice("yes", _l("Validées")),
    SelectChoice("no", _l("Non validées")),
]


class CandidateForm(FlaskForm):
    candidate_number = StringField(
        _l("Numéro de candidat"),
        validators=[_required(_l("Saisissez le numéro de candidat.")), Length(max=40)],
    )
    last_name = StringField(
        _l("Nom"), validators=[_required(_l("Saisissez le nom.")), Length(max=100)]
    )
    first_name = StringField(
        _l("Prénom"), validators=[_required(_l("Saisissez le prénom.")), Length(max=100)]
    )
    birth_date = TypedDateField(
        _l("Date de naissance"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Saisissez la date de naissance."))],
    )
    route = SelectField(
        _l("Parcours"),
        choices=[
            SelectChoice(Route.TRAINING.value, _l("Formation")),
            SelectChoice(Route.VAE.value, _l("VAE")),
            SelectChoice(Route.CAPITALISATION.value, _l("Capitalisation")),
        ],
        invalid_choice_message=_l("Choisissez formation, VAE ou capitalisation."),
    )
    held_ccps = SelectMultipleField(
        _l("CCP déjà acquis"),
        choices=[],
        invalid_choice_message=_l("CCP inconnu : %(value)s."),
    )
    disability_arrangements = TextAreaField(
        _l("Aménagements (situation de handicap)"), validators=[Length(max=2000)]
    )
    company_context = StringField(_l("Contexte d'entreprise choisi"), validators=[Length(max=200)])
    company_hours = IntegerField(
        _l("Heures de période en entreprise"),
        validators=[
            Optional(),
            NumberRange(min=0, max=5000, message=_l("Nombre d'heures invalide.")),
        ],
    )
    company_proof_received = BooleanField(_l("Attestation de période en entreprise reçue"))
    dossier_received = BooleanField(_l("Dossier professionnel reçu"))
    production_received = BooleanField(_l("Production reçue"))
    production_pages = IntegerField(
        _l("Nombre de pages du document"),
        validators=[Optional(), NumberRange(min=0, max=1000, message=_l("Nombre invalide."))],
    )
    production_slides = IntegerField(
        _l("Nombre de diapositives"),
        validators=[Optional(), NumberRange(min=0, max=1000, message=_l("Nombre invalide."))],
    )
    ecf = SelectField(
        _l("Résultats des ECF"),
        choices=ECF_CHOICES,
        default="",
        invalid_choice_message=_l("Choisissez une réponse de la liste."),
    )

    # Exam day: who came, as the centre records it at the door (the jury may correct it
    # during the deliberation). Only on the correction page: a new candidate is expected.
    presence = SelectField(
        _l("Présence le jour de l'examen"),
        choices=[SelectChoice(p.value, PRESENCE_LABELS[p]) for p in Presence],
        default=Presence.EXPECTED.value,
        invalid_choice_message=_l("Choisissez une réponse de la liste."),
    )
    presence_note = TextAreaField(
        _l("Circonstances de l'absence ou de l'abandon"), validators=[Length(max=2000)]
    )

    def validate_birth_date(self, field):
        if field.data and not dt.date(1900, 1, 1) <= field.data < dt.date.today():
            raise ValidationError(_l("Date de naissance improbable."))

    def validate_presence_note(self, field):
        if self.presence.data in _NEEDS_CIRCUMSTANCES and not (field.data or "").strip():
            raise ValidationError(_l("Précisez les circonstances de l'absence ou de l'abandon."))

    @property
    def ecf_passed(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.ecf.data)


class ImportForm(FlaskForm):
    file = FileField(
        _l("Fichier des candidats (CSV ou Excel .xlsx)"),
        validators=[FileRequired(_l("Choisissez un fichier."))],
        render_kw={"accept": ".csv,.txt,.xlsx"},
    )


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ScheduleForm(FlaskForm):
    day_start = TimeField(
        _l("Début de journée"),
        default=dt.time(8, 30),
        validators=[InputRequired(_l("Saisissez l'heure de début (hh:mm)."))],
    )
    day_end = TimeField(
        _l("Fin de journée du jury"),
        default=dt.time(18, 30),
        validators=[InputRequired(_l("Saisissez l'heure de fin (hh:mm)."))],
    )
    break_start = TimeField(
        _l("Pause du jury : début"), default=dt.time(12, 0), validators=[Optional()]
    )
    break_end = TimeField(
        _l("Pause du jury : fin"), default=dt.time(13, 0), validators=[Optional()]
    )
    break_label = StringField(
        _l("Intitulé de la pause"), default=_l("Pause déjeuner"), validators=[Length(max=100)]
    )
    written_room = StringField(
        _l("Salle de l'écrit et des préparations"), validators=[Length(max=100)]
    )
    oral_room = StringField(_l("Salle du jury"), validators=[Length(max=100)])

    def validate_day_end(self, field):
        if field.data and self.day_start.data and field.data <= self.day_start.data:
            raise ValidationError(_l("La fin de journée doit suivre le début."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.break_start.data, self.break_end.data
        # Checked here: an empty optional field stops its own validators before any inline one.
        if bool(start) != bool(end):
            self.break_end.errors.append(
                _l("Donnez le début et la fin de la pause, ou aucun des deux.")
            )
            return False
        if start and end <= start:
            self.break_end.errors.append(_l("La fin de la pause doit suivre son début."))
            return False
        return valid


class SlotForm(Form):
    """One line of a candidate's timetable (no CSRF of its own: the outer form has it)."""

    slot_id = HiddenField()
    starts_at = DateTimeLocalField(
        _l("Début"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Saisissez le début (jj/mm/aaaa hh:mm)."))],
    )
    ends_at = DateTimeLocalField(
        _l("Fin"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Saisissez la fin (jj/mm/aaaa hh:mm)."))],
    )
    room = StringField(_l("Salle"), validators=[Length(max=100)])

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("La fin doit suivre le début."))


class CandidateSlotsForm(FlaskForm):
    slots = FieldList(FormField(SlotForm))
