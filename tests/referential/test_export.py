"""Exporting a loaded referential back to plain data in the RE's order."""

from __future__ import annotations

import json

import pytest

from ntc_jury.referential.export import (
    export_referential,
    find_certification,
    version_sort_key,
)
from ntc_jury.referential.loader import load_referential

from . import mini_data, ntc_data

# Measured: certification, CCPs, competencies, criteria, competency modalities (+ modality),
# transversals, transversal links, formats, phases (+ modality), phase links.
# It must not grow with the size of the referential.
EXPORT_QUERIES = 10


def expected_export(data: dict) -> dict:
    """The export shape computed straight from a parsed YAML file."""
    return {
        "code": data["code"],
        "version": data["version"],
        "title": data["title"],
        "level": data["level"],
        "ccps": [
            {
                "code": ccp["code"],
                "title": ccp["title"],
                "competencies": [
                    {
                        "code": c["code"],
                        "title": c["title"],
                        "modalities": c["modalities"],
                        "criteria": c["criteria"],
                    }
                    for c in ccp["competencies"]
                ],
            }
            for ccp in data["ccps"]
        ],
        "transversal": [
            {"title": t["title"], "competencies": t["competencies"]} for t in data["transversal"]
        ],
        "formats": [
            {
                "code": f["code"],
                "title": f["title"],
                "phases": [
                    {
                        "title": p["title"],
                        "modality": p["modality"],
                        "minutes": p["minutes"],
                        "jury": p["jury"],
                        "supervised": p["supervised"],
                        "competencies": p["competencies"],
                    }
                    for p in f["phases"]
                    if not p.get("capitalisation_only", False)
                ],
            }
            for f in data["formats"]
        ],
    }


def test_export_has_the_spec_shape_and_key_order(ntc):
    exported = export_referential(ntc)
    assert list(exported) == [
        "code", "version", "title", "level", "ccps", "transversal", "formats",
    ]  # fmt: skip
    assert (exported["code"], exported["version"], exported["level"]) == ("TP-00338", "07", 5)
    assert exported["title"] == "Négociateur technico-commercial"
    assert list(exported["ccps"][0]) == ["code", "title", "competencies"]
    assert list(exported["ccps"][0]["competencies"][0]) == [
        "code", "title", "modalities", "criteria",
    ]  # fmt: skip
    assert list(exported["transversal"][0]) == ["title", "competencies"]
    assert list(exported["formats"][0]) == ["code", "title", "phases"]
    assert list(exported["formats"][0]["phases"][0]) == [
        "title", "modality", "minutes", "jury", "supervised", "competencies",
    ]  # fmt: skip
    assert json.loads(json.dumps(exported)) == exported  # plain JSON types only


def test_export_spot_values(ntc):
    exported = export_referential(ntc)
    assert exported["ccps"][0]["competencies"][0] == {
        "code": "CP1",
        "title": "Assurer une veille commerciale",
        "modalities": ["QP"],
        "criteria": [
            "Les outils de veille utilisés sont appropriés au contexte de l'entreprise",
            "Les données recherchées sont pertinentes par rapport à l'objectif de la veille",
            "Les données issues de la veille sont actualisées",
            "La stratégie de veille est ajustée en fonction des évolutions du contexte",
            "L'analyse du positionnement des produits et des services de l'entreprise est "
            "étayée par les données issues de la veille",
            "Les propositions faites en matière de stratégie de veille sont argumentées et "
            "étayées par des données issues de la veille",
        ],
    }
    assert exported["ccps"][1]["competencies"][0]["modalities"] == ["MSP", "ET"]
    title = exported["formats"][0]
    assert (title["code"], title["title"]) == ("TITLE", "Titre professionnel complet")
    assert title["phases"][0] == {
        "title": "Mise en situation écrite (étude de cas)",
        "modality": "MSP",
        "minutes": 240,
        "jury": False,
        "supervised": True,
        "competencies": ["CP4", "CP6"],
    }
    assert title["phases"][-1]["title"] == "Entretien final"  # the title's own EF is kept
    assert [t["title"] for t in exported["transversal"]][3] == "Evaluer ses actions"
    assert exported["transversal"][0]["competencies"] == [
        "CP4", "CP1", "CP2", "CP6", "CP7", "CP9", "CP3", "CP8", "CP5",
    ]  # fmt: skip


def test_export_leaves_out_capitalisation_only_phases(ntc):
    formats = export_referential(ntc)["formats"]
    assert [f["code"] for f in formats] == ["TITLE", "CCP1", "CCP2"]
    assert [len(f["phases"]) for f in formats] == [13, 10, 9]  # 11 and 10 stored
    titles = {p["title"] for f in formats for p in f["phases"]}
    assert "Entretien final (candidats par capitalisation de CCP)" not in titles
    for f in formats:
        assert (
            sum(p["minutes"] for p in f["phases"])
            == {"TITLE": 510, "CCP1": 240, "CCP2": 365}[f["code"]]
        )


def test_export_rederives_the_51_criteria(ntc):
    ccps = export_referential(ntc)["ccps"]
    assert sum(len(c["criteria"]) for ccp in ccps for c in ccp["competencies"]) == 51


@pytest.mark.parametrize("load", [ntc_data, mini_data], ids=["ntc", "mini"])
def test_export_is_consistent_with_the_yaml(db, load):
    data = load()
    exported = export_referential(load_referential(load()))
    assert exported == expected_export(data)
    yaml_criteria = {c["code"]: c["criteria"] for ccp in data["ccps"] for c in ccp["competencies"]}
    exported_criteria = {
        c["code"]: c["criteria"] for ccp in exported["ccps"] for c in ccp["competencies"]
    }
    assert exported_criteria == yaml_criteria


def test_phase_without_modality_exports_null(db):
    data = mini_data()
    data["formats"][0]["phases"][1]["modality"] = None
    exported = export_referential(load_referential(data))
    assert exported["formats"][0]["phases"][1]["modality"] is None
    assert '"modality": null' in json.dumps(exported)


def test_export_takes_a_fixed_number_of_queries(ntc, db, count_queries):
    with count_queries() as counter:
        export_referential(ntc)
    assert counter.count == EXPORT_QUERIES
    # Expired objects or a bigger session change nothing: the tree is always read afresh.
    mini = load_referential(mini_data())
    db.session.expire_all()
    with count_queries() as counter:
        export_referential(ntc)
        export_referential(mini)
    assert counter.count == 2 * EXPORT_QUERIES


def test_versions_compare_numerically():
    versions = ["10", "9", "08", "07", "1b", "1a"]
    assert sorted(versions, key=version_sort_key) == ["1a", "1b", "07", "08", "9", "10"]


def test_find_certification_picks_the_latest_version(db):
    for version in ("9", "10", "01"):
        data = mini_data()
        data["version"] = version
        load_referential(data)
    assert find_certification("TP-99999").version == "10"
    assert find_certification("TP-99999", "9").version == "9"
    assert find_certification("TP-99999", "02") is None
    assert find_certification("TP-00000") is None
