from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from ..core.vocabulary import StaffRole

PASSWORD_MIN = 12


class StaffSignInForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Saisissez votre adresse e-mail.")),
            # No account has a longer one (and the failure counter's key must fit its column).
            Length(max=254, message=_l("Adresse e-mail ou mot de passe incorrect.")),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(_l("Saisissez votre mot de passe."))]
    )


class PinForm(FlaskForm):
    pin = StringField(
        _l("Code PIN (6 chiffres)"),
        validators=[
            DataRequired(_l("Saisissez votre code PIN.")),
            Regexp(r"^\s*\d{6}\s*$", message=_l("Le code PIN compte exactement 6 chiffres.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


def _password_field(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Saisissez un mot de passe.")),
            Length(
                min=PASSWORD_MIN,
                max=200,
                message=_l(
                    "Le mot de passe doit compter au moins %(n)s caractères.", n=PASSWORD_MIN
                ),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class StaffCreateForm(FlaskForm):
    name = StringField(
        _l("Nom"), validators=[DataRequired(_l("Saisissez le nom.")), Length(max=200)]
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Saisissez l'adresse e-mail.")),
            Email(_l("Adresse e-mail invalide.")),
            Length(max=254),
        ],
    )
    role = SelectField(
        _l("Rôle"),
        # SelectChoice, not tuples: WTForms 3.3 deprecates tuples (an error under pytest).
        choices=[
            SelectChoice(StaffRole.STAFF.value, _l("Personnel du centre")),
            SelectChoice(StaffRole.ADMIN.value, _l("Administrateur")),
        ],
    )
    password = _password_field(_l("Mot de passe initial"))


class PasswordResetForm(FlaskForm):
    password = _password_field(_l("Nouveau mot de passe"))
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[EqualTo("password", _l("Les deux mots de passe ne sont pas identiques."))],
        render_kw={"autocomplete": "new-password"},
    )


class OwnPasswordForm(PasswordResetForm):
    """A staff member's own password: the current one first, so a borrowed or stolen signed-in
    browser cannot turn itself into the account for good."""

    current = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Saisissez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
