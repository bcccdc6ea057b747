"""Loading referential YAML files: what is stored, idempotence, versions, validation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from ntc_jury.models import (
    Certification,
    Competency,
    Criterion,
    ExamSession,
    Phase,
    SessionFormat,
)
from ntc_jury.referential.export import export_referential
from ntc_jury.referential.loader import (
    ReferentialError,
    canonical_sha256,
    load_referential,
    load_referential_file,
    read_referential_file,
)
from tests.conftest import MINI_YAML, NTC_YAML

from . import mini_data, ntc_data, row_counts


def competency(certification: Certification, code: str) -> Competency:
    return next(c for ccp in certification.ccps for c in ccp.competencies if c.code == code)


def session_format(certification: Certification, code: str) -> SessionFormat:
    return next(f for f in certification.formats if f.code == code)


def nothing_written() -> bool:
    return not any(row_counts().values())


@pytest.fixture
def stored(ntc, db):
    """The NTC certification read back from the database, not from the objects just built."""
    db.session.expire_all()
    return ntc


# --------------------------------------------------------------------------- the NTC file


def test_ntc_loads_every_part_of_the_re(stored):
    competencies = [c for ccp in stored.ccps for c in ccp.competencies]
    assert (stored.code, stored.version, stored.acronym, stored.level) == (
        "TP-00338",
        "07",
        "NTC",
        5,
    )
    assert [ccp.code for ccp in stored.ccps] == ["CCP1", "CCP2"]
    assert [c.code for c in competencies] == [f"CP{n}" for n in range(1, 10)]
    assert sum(len(c.criteria) for c in competencies) == 51
    assert [t.code for t in stored.transversals] == ["CT1", "CT2", "CT3", "CT4", "CT5"]
    assert {f.code: len(f.phases) for f in stored.formats} == {"TITLE": 13, "CCP1": 11, "CCP2": 10}
    assert row_counts() == {
        "certification": 1,
        "modality": 5,
        "ccp": 2,
        "competency": 9,
        "criterion": 51,
        "competency_modality": 15,
        "transversal_competency": 5,
        "transversal_link": 45,
        "session_format": 3,
        "phase": 34,
        "phase_competency": 61,
    }


@pytest.mark.parametrize(
    ("code", "position", "text"),
    [
        ("CP1", 0, "Les outils de veille utilisés sont appropriés au contexte de l'entreprise"),
        (
            "CP2",
            1,
            "Les besoins et les attentes spécifiques des entreprises prospects / clientes sont "
            "pris en compte",
        ),
        (
            "CP4",
            1,
            "Les écarts entre les résultats réalisés avec les objectifs fixés sont évalués",
        ),
        (
            "CP7",
            0,
            "La négociation de la solution répond aux attentes de l'entreprise prospect/cliente",
        ),
        ("CP9", 0, "Le suivi de la mise en œuvre des solutions de l'entreprise cliente est assuré"),
    ],
)
def test_ntc_criteria_are_verbatim(ntc, db, code, position, text):
    stored = db.session.scalars(
        select(Criterion.text)
        .join(Competency)
        .where(Competency.certification_id == ntc.id, Competency.code == code)
        .where(Criterion.position == position)
    ).one()
    assert stored == text


def test_ntc_competency_modalities(stored):
    def codes(code):
        return [link.modality.code for link in competency(stored, code).modality_links]

    assert codes("CP1") == ["QP"]
    assert codes("CP3") == ["MSP", "ET"]
    assert codes("CP9") == ["QP"]
    assert [link.position for link in competency(stored, "CP3").modality_links] == [0, 1]


def test_ntc_certification_header_notes_and_hash(stored):
    assert stored.title == "Négociateur technico-commercial"
    assert stored.journal_officiel == dt.date(2024, 5, 16)
    assert stored.updated_on == dt.date(2024, 5, 17)
    assert len(stored.notes) == 9
    assert stored.notes[0]["topic"] == "Phase-to-competency mapping"
    assert stored.source_sha256 == canonical_sha256(ntc_data())
    assert [(m.code, m.position) for m in stored.modalities] == [
        ("MSP", 0),
        ("ET", 1),
        ("QPro", 2),
        ("QP", 3),
        ("EF", 4),
    ]


def test_ntc_positions_follow_file_order(stored):
    assert [ccp.position for ccp in stored.ccps] == [0, 1]
    assert [c.position for c in stored.ccps[1].competencies] == [0, 1, 2, 3, 4]
    assert [c.position for c in competency(stored, "CP6").criteria] == list(range(8))
    assert [p.position for p in session_format(stored, "CCP2").phases] == list(range(10))
    links = stored.transversals[0].links
    # Table 3.3's order (alphabetical by title), not CP order.
    assert [link.competency.code for link in links] == [
        "CP4", "CP1", "CP2", "CP6", "CP7", "CP9", "CP3", "CP8", "CP5",
    ]  # fmt: skip
    assert [link.position for link in links] == list(range(9))


def test_ntc_formats_and_production_limits(stored):
    title, ccp1, ccp2 = stored.formats
    assert (title.code, title.ccp, title.total_minutes, title.jury_minutes) == (
        "TITLE",
        None,
        510,
        220,
    )
    assert (title.company_hours, title.document_pages_min, title.document_pages_max) == (
        350,
        32,
        38,
    )
    assert (title.slides_min, title.slides_max) == (28, 32)
    assert ccp1.ccp.code == "CCP1"
    assert ccp2.ccp.code == "CCP2"
    assert (ccp2.total_minutes, ccp2.jury_minutes, ccp2.company_hours) == (365, 135, 175)
    assert (ccp2.slides_min, ccp2.slides_max) == (13, 17)


def test_ntc_phases_store_every_field(stored):
    first = session_format(stored, "TITLE").phases[0]
    assert first.code == "MSP-ECRIT"
    assert first.title == "Mise en situation écrite (étude de cas)"
    assert first.part == "Mise en situation professionnelle — partie écrite"
    assert first.description.startswith("Le candidat renseigne un tableau de bord")
    assert first.modality.code == "MSP"
    assert (first.minutes, first.jury_present, first.supervised) == (240, False, True)
    assert first.capitalisation_only is False
    assert [link.competency.code for link in first.competency_links] == ["CP4", "CP6"]
    assert [link.position for link in first.competency_links] == [0, 1]

    final = session_format(stored, "CCP1").phases[-1]
    assert (final.code, final.modality.code, final.minutes) == ("EF", "EF", 10)
    assert final.capitalisation_only is True
    assert final.competency_links == []


# --------------------------------------------------------------------------- generic


def test_mini_referential_loads_with_no_code_change(db):
    mini = load_referential_file(MINI_YAML)
    assert (mini.code, mini.version, mini.level) == ("TP-99999", "01", 3)
    assert [c.code for c in mini.ccps[0].competencies] == ["CP1", "CP2"]
    assert [link.competency.code for link in mini.transversals[0].links] == ["CP2", "CP1"]
    title, ccp1 = mini.formats
    assert (title.document_pages_min, title.document_pages_max) == (4, 6)
    assert (title.slides_min, title.slides_max) == (None, None)
    assert (ccp1.company_hours, ccp1.document_pages_min, ccp1.slides_max) == (None, None, None)
    capitalisation = ccp1.phases[-1]
    assert (capitalisation.modality, capitalisation.part) == (None, None)
    assert capitalisation.capitalisation_only is True
    assert len(mini.notes) == 1


def test_ntc_and_mini_live_side_by_side(ntc, db):
    mini = load_referential_file(MINI_YAML)
    assert mini.id != ntc.id
    codes = db.session.scalars(select(Certification.code).order_by(Certification.code)).all()
    assert codes == ["TP-00338", "TP-99999"]


# --------------------------------------------------------------------------- idempotence


def test_loading_the_same_file_twice_writes_nothing(ntc, db, count_queries):
    before = row_counts()
    with count_queries() as counter:
        again = load_referential_file(NTC_YAML)
    assert again.id == ntc.id
    assert row_counts() == before
    writes = [s for s in counter.statements if not s.lstrip().upper().startswith("SELECT")]
    assert writes == []


def test_comments_and_layout_do_not_change_the_content_hash(ntc, tmp_path):
    reformatted = tmp_path / "copy.yaml"
    source = NTC_YAML.read_text(encoding="utf-8")
    reformatted.write_text("# a new comment\n\n" + source.replace('"07"', "'07'"), "utf-8")
    assert load_referential_file(reformatted).id == ntc.id


def test_same_version_with_different_content_is_refused(db):
    original = load_referential(mini_data())
    before = row_counts()
    changed = mini_data()
    changed["ccps"][0]["competencies"][0]["criteria"][0] = "Les consignes sont respectées"
    expected = "version : le référentiel TP-99999 v01 est déjà chargé avec un contenu différent"
    with pytest.raises(ReferentialError, match="^" + re.escape(expected)):
        load_referential(changed)
    assert row_counts() == before
    assert competency(original, "CP1").criteria[0].text == (
        "Les consignes de l'opération sont respectées"
    )


def test_new_version_is_added_beside_the_old_one(ntc, db):
    session = ExamSession(
        certification=ntc,
        format=ntc.formats[0],
        centre="Centre de test",
        starts_on=dt.date(2025, 3, 10),
        ends_on=dt.date(2025, 3, 11),
    )
    db.session.add(session)
    db.session.flush()
    old_export = export_referential(ntc)
    old_format_id = ntc.formats[0].id
    old_counts = row_counts()

    data = ntc_data()
    data["version"] = "08"
    data["ccps"][0]["competencies"][0]["criteria"][0] = "Les outils de veille sont appropriés"
    new = load_referential(data)
    db.session.expire_all()

    assert new.id != ntc.id
    versions = db.session.scalars(
        select(Certification.version).where(Certification.code == "TP-00338")
    ).all()
    assert sorted(versions) == ["07", "08"]
    assert (session.certification_id, session.format_id) == (ntc.id, old_format_id)
    assert session.format.certification.version == "07"
    assert export_referential(ntc) == old_export
    assert ntc.source_sha256 == canonical_sha256(ntc_data())
    # The new version brings its own rows; none of the old ones moved.
    assert row_counts() == {table: 2 * count for table, count in old_counts.items()}
    new_criteria = export_referential(new)["ccps"][0]["competencies"][0]["criteria"]
    assert new_criteria[0] == "Les outils de veille sont appropriés"


# --------------------------------------------------------------------------- validation


def _walk(data: dict, path: str):
    """The container holding the last step of a dotted path ("formats.0.phases.1.minutes")."""
    *parents, last = (int(step) if step.isdigit() else step for step in path.split("."))
    for step in parents:
        data = data[step]
    return data, last


def replace(path, value):
    def mutate(data):
        container, key = _walk(data, path)
        container[key] = value

    return mutate


def remove(path):
    def mutate(data):
        container, key = _walk(data, path)
        del container[key]

    return mutate


def append(path, value):
    def mutate(data):
        container, key = _walk(data, path)
        container[key].append(value)

    return mutate


def both(*mutations):
    def mutate(data):
        for mutation in mutations:
            mutation(data)

    return mutate


def second_ccp(ccp_code="CCP2", competency_code="CP3"):
    return append(
        "ccps",
        {
            "code": ccp_code,
            "title": "Un second CCP",
            "competencies": [
                {
                    "code": competency_code,
                    "title": "Une autre compétence",
                    "modalities": ["MSP"],
                    "criteria": ["Un critère"],
                }
            ],
        },
    )


INVALID = {
    "schema-version": (replace("schema", 2), "schema : version de format 2 non prise en charge"),
    "missing-top-key": (remove("acronym"), "acronym : clé obligatoire absente"),
    "missing-nested-key": (
        remove("ccps.0.competencies.1.title"),
        "ccps[0].competencies[1].title : clé obligatoire absente",
    ),
    "text-for-integer": (
        replace("formats.0.phases.0.minutes", "60"),
        "formats[0].phases[0].minutes : nombre entier attendu, trouvé texte « 60 »",
    ),
    "boolean-for-integer": (
        replace("formats.0.phases.0.minutes", True),
        "formats[0].phases[0].minutes : nombre entier attendu, trouvé booléen « true »",
    ),
    "unquoted-version": (replace("version", 1), "version : texte attendu, trouvé nombre « 1 »"),
    "null-title": (replace("title", None), "title : texte attendu, trouvé null"),
    "text-for-list": (
        replace("ccps.0.competencies.0.criteria", "Un critère"),
        "ccps[0].competencies[0].criteria : liste attendue, trouvé texte « Un critère »",
    ),
    "bad-date": (
        replace("journal_officiel", "15/01/2023"),
        "journal_officiel : date attendue (AAAA-MM-JJ), trouvé texte « 15/01/2023 »",
    ),
    "empty-criteria": (
        replace("ccps.0.competencies.0.criteria", []),
        "ccps[0].competencies[0].criteria : liste vide",
    ),
    "blank-criterion": (
        replace("ccps.0.competencies.0.criteria.1", "  "),
        "ccps[0].competencies[0].criteria[1] : texte vide",
    ),
    "code-too-long": (
        replace("ccps.0.code", "C" * 21),
        "ccps[0].code : texte trop long (21 caractères, 20 au plus)",
    ),
    "bad-phase-code": (
        replace("formats.0.phases.0.code", "msp écrit"),
        "formats[0].phases[0].code : code « msp écrit » invalide",
    ),
    "unknown-top-key": (
        replace("shema", 1),
        "shema : clé inconnue (vouliez-vous dire « schema » ?)",
    ),
    "unknown-nested-key": (
        replace("formats.0.phases.1.minuts", 30),
        "formats[0].phases[1].minuts : clé inconnue (vouliez-vous dire « minutes » ?)",
    ),
    "unknown-modality": (
        replace("ccps.0.competencies.1.modalities.1", "XX"),
        "ccps[0].competencies[1].modalities[1] : modalité inconnue « XX »",
    ),
    "unknown-phase-modality": (
        replace("formats.0.phases.2.modality", "QP"),
        "formats[0].phases[2].modality : modalité inconnue « QP »",
    ),
    "modality-twice": (
        replace("ccps.0.competencies.1.modalities.1", "MSP"),
        "ccps[0].competencies[1].modalities[1] : code en double (identique à modalities[0])",
    ),
    "duplicate-criterion": (
        append("ccps.0.competencies.0.criteria", "Les consignes de l'opération sont respectées"),
        "ccps[0].competencies[0].criteria[3] : critère en double (identique à criteria[0])",
    ),
    "duplicate-competency": (
        replace("ccps.0.competencies.1.code", "CP1"),
        "ccps[0].competencies[1].code : code de compétence « CP1 » en double",
    ),
    "duplicate-competency-across-ccps": (
        second_ccp(competency_code="CP2"),
        "ccps[1].competencies[0].code : code de compétence « CP2 » en double",
    ),
    "duplicate-ccp": (second_ccp(ccp_code="CCP1"), "ccps[1].code : code de CCP « CCP1 » en double"),
    "duplicate-modality": (
        append("modalities", {"code": "ET", "title": "Encore l'entretien technique"}),
        "modalities[2].code : code de modalité « ET » en double",
    ),
    "duplicate-transversal": (
        append("transversal", {"code": "CT1", "title": "Rechercher", "competencies": ["CP1"]}),
        "transversal[1].code : code de compétence transversale « CT1 » en double",
    ),
    "duplicate-format": (
        replace("formats.1.code", "TITLE"),
        "formats[1].code : code de format « TITLE » en double",
    ),
    "duplicate-phase": (
        replace("formats.0.phases.2.code", "MSP-ORAL"),
        "formats[0].phases[2].code : code de phase « MSP-ORAL » en double",
    ),
    "transversal-competency-in-no-ccp": (
        replace("transversal.0.competencies.1", "CP9"),
        "transversal[0].competencies[1] : compétence « CP9 » définie dans aucun CCP",
    ),
    "phase-unknown-competency": (
        replace("formats.0.phases.1.competencies.1", "CP9"),
        "formats[0].phases[1].competencies[1] : compétence « CP9 » définie dans aucun CCP",
    ),
    "phase-competency-twice": (
        replace("formats.0.phases.1.competencies.1", "CP1"),
        "formats[0].phases[1].competencies[1] : code en double (identique à competencies[0])",
    ),
    "unknown-format-ccp": (
        replace("formats.1.ccp", "CCP7"),
        "formats[1].ccp : CCP inconnu « CCP7 »",
    ),
    "competency-of-another-ccp": (
        both(second_ccp(), replace("formats.1.phases.1.competencies.1", "CP3")),
        "formats[1].phases[1].competencies[1] : la compétence « CP3 » appartient au CCP2, "
        "pas au CCP1",
    ),
    "competency-outside-phase-modality": (
        replace("formats.0.phases.2.competencies.0", "CP1"),
        "formats[0].phases[2].competencies[0] : la compétence « CP1 » n'est pas évaluée par la "
        "modalité « ET »",
    ),
    "total-minutes": (
        replace("formats.0.phases.0.minutes", 61),
        "formats[0].total_minutes : la durée des phases (hors capitalisation) fait 111 min, "
        "mais 110 min sont déclarées",
    ),
    "jury-minutes": (
        replace("formats.0.phases.0.jury", True),
        "formats[0].jury_minutes : la durée des phases avec jury (hors capitalisation) fait "
        "110 min, mais 50 min sont déclarées",
    ),
    "zero-minutes": (
        replace("formats.1.phases.3.minutes", 0),
        "formats[1].phases[3].minutes : nombre strictement positif attendu, trouvé 0",
    ),
    "negative-minutes": (
        replace("formats.0.phases.1.minutes", -30),
        "formats[0].phases[1].minutes : nombre strictement positif attendu, trouvé -30",
    ),
    "zero-total-minutes": (
        replace("formats.0.total_minutes", 0),
        "formats[0].total_minutes : nombre strictement positif attendu, trouvé 0",
    ),
    "negative-company-hours": (
        replace("formats.0.company_hours", -1),
        "formats[0].company_hours : nombre au moins 0 attendu, trouvé -1",
    ),
    "pages-min-above-max": (
        replace("formats.0.production.document_pages", {"min": 6, "max": 4}),
        "formats[0].production.document_pages : minimum 6 supérieur au maximum 4",
    ),
    "slides-min-above-max": (
        replace("formats.0.production.slides", {"min": 10, "max": 8}),
        "formats[0].production.slides : minimum 10 supérieur au maximum 8",
    ),
}


@pytest.mark.parametrize(("mutate", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_referential_is_refused_naming_the_place(db, mutate, message):
    data = mini_data()
    mutate(data)
    with pytest.raises(ReferentialError, match="^" + re.escape(message)):
        load_referential(data)
    assert nothing_written()


def test_capitalisation_phase_is_outside_the_totals(db):
    data = mini_data()
    data["formats"][1]["phases"][3]["minutes"] = 99
    loaded = load_referential(data)
    assert session_format(loaded, "CCP1").phases[3].minutes == 99


def test_a_list_is_not_a_referential(db):
    with pytest.raises(ReferentialError, match=r"^le référentiel doit être un dictionnaire"):
        load_referential(["schema", 1])
    assert nothing_written()


def test_yaml_syntax_error_names_the_line(db, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text('schema: 1\ncode: "TP-1"\ntitle: [unclosed\nlevel: 3\n', "utf-8")
    with pytest.raises(ReferentialError, match=r"^broken\.yaml, ligne \d+, colonne \d+ : YAML"):
        load_referential_file(broken)
    assert nothing_written()


def test_yaml_key_written_twice_is_refused(db, tmp_path):
    twice = tmp_path / "twice.yaml"
    source = MINI_YAML.read_text(encoding="utf-8")
    twice.write_text(source.replace("level: 3\n", "level: 3\nlevel: 4\n"), "utf-8")
    line = source.splitlines().index("level: 3") + 2
    expected = f"twice.yaml, ligne {line}, colonne 1 : YAML invalide (clé « level » en double)"
    with pytest.raises(ReferentialError, match="^" + re.escape(expected)):
        load_referential_file(twice)
    assert nothing_written()


def test_missing_and_non_utf8_files_are_refused(db, tmp_path):
    with pytest.raises(ReferentialError, match=r"^fichier introuvable : "):
        read_referential_file(tmp_path / "absent.yaml")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes('title: "Négociateur"\n'.encode("latin-1"))
    with pytest.raises(
        ReferentialError, match=r"^latin1\.yaml : le fichier n'est pas encodé en UTF-8"
    ):
        read_referential_file(latin1)
    assert nothing_written()


def test_the_whole_phase_table_is_stored(stored, db):
    """Every phase of every format, field by field, against the file."""
    phases = db.session.scalars(
        select(Phase).join(SessionFormat).where(SessionFormat.certification_id == stored.id)
    ).all()
    by_place = {(p.format.code, p.position): p for p in phases}
    for session_format_data in ntc_data()["formats"]:
        for position, phase in enumerate(session_format_data["phases"]):
            row = by_place[(session_format_data["code"], position)]
            assert (row.code, row.title, row.part, row.description) == (
                phase["code"],
                phase["title"],
                phase["part"],
                phase["description"],
            )
            assert (row.modality.code if row.modality else None) == phase["modality"]
            assert (row.minutes, row.jury_present, row.supervised) == (
                phase["minutes"],
                phase["jury"],
                phase["supervised"],
            )
            assert row.capitalisation_only == phase.get("capitalisation_only", False)
            assert [link.competency.code for link in row.competency_links] == phase["competencies"]
