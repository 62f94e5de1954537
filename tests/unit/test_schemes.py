"""Shipped scales, atlases and protocols load; invalid files fail with file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from myoscore.domain import NOT_EVALUABLE, SchemeError
from myoscore.resources import schemes_dir
from myoscore.schemes import (
    DerivedFunction,
    ScaleKind,
    load_atlas,
    load_library,
    load_protocol,
    load_scale,
    protocol_from_json,
    protocol_to_json,
)


@pytest.fixture(scope="module")
def library():
    return load_library(schemes_dir())


def test_every_shipped_scheme_loads(library) -> None:
    """All six scales, both atlases and both protocols load from the shipped folder."""
    assert set(library.scales) == {
        "edema_0_5", "fischer_0_4", "mercuri_modified", "stir_binary", "present_absent", "edema_pattern",
    }
    assert set(library.atlases) == {"lower_limb_compartments", "whole_body_muscles"}
    assert set(library.protocols) == {"nxp2_lower_limb", "imnm_whole_body"}


def test_edema_scale_quotes_seed_000(library) -> None:
    """Edema 0–5 has the six grades of seed 000 with their definitions."""
    scale = library.scales["edema_0_5"]
    assert scale.codes == ("0", "1", "2", "3", "4", "5")
    assert scale.level("4").definition.startswith("Moderate intrafascicular, segmented")
    assert scale.kind is ScaleKind.ORDINAL


def test_mercuri_declares_numbers_apart_from_codes(library) -> None:
    """Codes 2a/2b are strings; the numbers they add to sums are declared."""
    scale = library.scales["mercuri_modified"]
    assert scale.codes == ("0", "1", "2a", "2b", "3", "4")
    assert [scale.value_of(c) for c in scale.codes] == [0, 1, 2, 3, 4, 5]
    assert scale.value_of(NOT_EVALUABLE) is None


def test_whole_body_atlas_is_the_cited_list_and_t1_lb_follows_it(library) -> None:
    """The cited standard list gives 38 lower-body and 18 upper-body muscles (the paper
    says 39; no muscle is invented to reach it: the gemelli are one item), so T1-LB's
    maximum is 38 × 2 × 4 = 304, computed from the items, not the paper's 312."""
    atlas = library.atlases["whole_body_muscles"]
    bodies = {r.key: r.body for r in atlas.regions}
    lower = [m for m in atlas.muscles if bodies[m.region] == "lower"]
    upper = [m for m in atlas.muscles if bodies[m.region] == "upper"]
    assert (len(lower), len(upper)) == (38, 18)
    keys = {m.key for m in atlas.muscles}
    assert "pelvis.deep_rotators.gemelli" in keys
    assert not any("gemellus" in key for key in keys)
    t1_lb = next(d for d in library.protocols["imnm_whole_body"].derived if d.name == "t1_lb")
    assert len(t1_lb.item_keys) * 4 == 304


def test_lower_limb_atlas_lists_seed_000_compartments(library) -> None:
    """Six compartments, 24 muscles, e.g. the calf posterior group has six."""
    atlas = library.atlases["lower_limb_compartments"]
    assert [c.key for c in atlas.compartments] == [
        "thigh.anterior", "thigh.medial", "thigh.posterior", "calf.anterior", "calf.lateral", "calf.posterior",
    ]
    assert len(atlas.muscles) == 24
    assert sum(m.compartment == "calf.posterior" for m in atlas.muscles) == 6


def test_nxp2_protocol_sums_match_the_paper(library) -> None:
    """Thigh and calf sums cover 6 items × 0–5 = 0–30 each; the total 12 items = 0–60."""
    protocol = library.protocols["nxp2_lower_limb"]
    derived = {d.name: d for d in protocol.derived}
    assert len(derived["edema_thigh"].item_keys) * 5 == 30
    assert len(derived["edema_total"].item_keys) * 5 == 60
    assert derived["edema_total"].function is DerivedFunction.SUM
    assert protocol.item("edema_pattern.thigh").side is None
    assert protocol.scale_of("fat.calf.lateral.L").name == "fischer_0_4"


def test_protocol_snapshot_round_trip_keeps_hash(library) -> None:
    """A read's stored protocol rebuilds to the same hash."""
    for protocol in library.protocols.values():
        assert protocol_from_json(protocol_to_json(protocol)).hash == protocol.hash


def test_hash_changes_when_a_definition_changes(tmp_path: Path) -> None:
    """Editing a level's text gives the protocol a new hash (reads keep the old one)."""
    shipped = schemes_dir()
    for sub in ("scales", "atlases", "protocols"):
        (tmp_path / sub).mkdir()
        for f in (shipped / sub).glob("*.toml"):
            (tmp_path / sub / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    before = load_library(tmp_path).protocols["nxp2_lower_limb"].hash
    scale = tmp_path / "scales" / "edema_0_5.toml"
    scale.write_text(scale.read_text(encoding="utf-8").replace("(score 1).", "(score one)."), encoding="utf-8")
    assert load_library(tmp_path).protocols["nxp2_lower_limb"].hash != before


# -- invalid files: one test per kind of error ---------------------------------------------------
SCALE_HEAD = '[scale]\nname = "s"\nkind = "ordinal"\ntitle = "S"\n'
LEVELS = '[[level]]\ncode = "0"\nvalue = 0\nlabel = "a"\ndefinition = "A"\n' \
         '[[level]]\ncode = "1"\nvalue = 1\nlabel = "b"\ndefinition = "B"\n'


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (SCALE_HEAD + '[[level]]\ncode = "0"\nvalue = 0\nlabel = "a"\n'
         '[[level]]\ncode = "1"\nvalue = 1\nlabel = "b"\ndefinition = "B"\n',
         "level[0].definition", "is missing"),
        (SCALE_HEAD + LEVELS.replace('code = "1"', 'code = "0"'), "level[1].code", "duplicate level code"),
        (SCALE_HEAD.replace("ordinal", "ranked") + LEVELS, "scale.kind", "must be one of"),
        (SCALE_HEAD + LEVELS.replace("value = 1", "value = -1"), "level", "values must increase"),
        (SCALE_HEAD + LEVELS.replace('code = "1"', 'code = "NE"'), "level[1].code", "reserved"),
        (SCALE_HEAD + LEVELS.replace("value = 1", 'value = "one"'), "level[1].value", "must be a number"),
        (SCALE_HEAD + LEVELS + "colour = 3\n", "level[1].colour", "unknown key"),
        (SCALE_HEAD.replace("ordinal", "binary") + LEVELS
         + '[[level]]\ncode = "2"\nvalue = 2\nlabel = "c"\ndefinition = "C"\n', "level", "exactly two"),
        (SCALE_HEAD.replace("ordinal", "nominal") + LEVELS, "level[0].value", "nominal levels have no number"),
        ("[scale\nname=", "(syntax)", "not valid TOML"),
    ],
)
def test_invalid_scale_is_named(tmp_path: Path, text: str, key: str, problem: str) -> None:
    """Each kind of invalid scale names the file, the key and what is wrong."""
    path = tmp_path / "bad_scale.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_scale(path)
    assert err.value.file == str(path)
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(path) in str(err.value)


ATLAS = '''[atlas]
name = "a"
version = "1"
title = "A"
[[region]]
key = "thigh"
name = "Thigh"
body = "lower"
[[compartment]]
key = "thigh.anterior"
region = "thigh"
name = "Anterior"
[[muscle]]
key = "thigh.anterior.rf"
name = "RF"
compartment = "thigh.anterior"
order = 1
'''


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (ATLAS + '[[muscle]]\nkey = "thigh.anterior.rf"\nname = "x"\ncompartment = "thigh.anterior"\norder = 2\n',
         "muscle[1].key", "duplicate muscle"),
        (ATLAS.replace('compartment = "thigh.anterior"', 'compartment = "thigh.lateral"'),
         "muscle[0].compartment", "unknown compartment"),
        (ATLAS.replace('region = "thigh"', 'region = "calf"'), "compartment[0].region", "unknown region"),
        (ATLAS.replace('body = "lower"', 'body = "middle"'), "region[0].body", "must be one of"),
        (ATLAS.replace('name = "RF"\n', ""), "muscle[0].name", "is missing"),
    ],
)
def test_invalid_atlas_is_named(tmp_path: Path, text: str, key: str, problem: str) -> None:
    """Each kind of invalid atlas names the file, the key and what is wrong."""
    path = tmp_path / "bad_atlas.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_atlas(path)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert problem in err.value.problem


PROTOCOL = '''[protocol]
name = "p"
version = "1"
title = "P"
atlas = "lower_limb_compartments"
[[items]]
measure = "edema"
label = "Edema"
scale = "edema_0_5"
sequence = "STIR"
unit = "compartment"
sides = ["R", "L"]
[[items]]
measure = "pattern"
label = "Pattern"
scale = "edema_pattern"
sequence = "STIR"
unit = "region"
sides = []
[[derived]]
name = "total"
label = "Total"
function = "sum"
measure = "edema"
'''


@pytest.mark.parametrize(
    ("replace", "append", "key", "problem"),
    [
        (('scale = "edema_0_5"', 'scale = "edema_0_9"'), "", "items[0].scale", "unknown scale 'edema_0_9'"),
        (('atlas = "lower_limb_compartments"', 'atlas = "hands"'), "", "protocol.atlas", "unknown atlas"),
        (('measure = "edema"\nlabel', 'measure = "pattern"\nlabel'), "", "items[1].measure", "duplicate measure"),
        (('sides = ["R", "L"]', 'sides = ["R", "X"]'), "", "items[0].sides", "unknown side"),
        (('unit = "compartment"', 'unit = "fibre"'), "", "items[0].unit", "must be one of"),
        (None, '[[derived]]\nname = "x"\nlabel = "X"\nfunction = "sum"\nmeasure = "fat"\n',
         "derived[1].measure", "unknown measure 'fat'"),
        (None, '[[derived]]\nname = "x"\nlabel = "X"\nfunction = "sum"\nitems = ["edema.thigh.lateral.R"]\n',
         "derived[1].items", "unknown item 'edema.thigh.lateral.R'"),
        (None, '[[derived]]\nname = "total"\nlabel = "X"\nfunction = "sum"\nmeasure = "edema"\n',
         "derived[1].name", "duplicate derived score"),
        (None, '[[derived]]\nname = "x"\nlabel = "X"\nfunction = "median"\nmeasure = "edema"\n',
         "derived[1].function", "must be one of"),
        (None, '[[derived]]\nname = "x"\nlabel = "X"\nfunction = "sum"\nmeasure = "pattern"\n',
         "derived[1]", "nominal scale"),
        # Reconciliation policies the scale cannot take (issue 10), and scopes
        (('sides = []', 'sides = []\nreconcile = "mean"'), "", "items[1].reconcile",
         "'mean' cannot reconcile measure 'pattern' on the nominal scale edema_pattern"),
        (('sides = ["R", "L"]', 'sides = ["R", "L"]\nreconcile = "any_positive"'), "", "items[0].reconcile",
         "any_positive and both_positive are for binary scales"),
        (('sides = ["R", "L"]', 'sides = ["R", "L"]\nreconcile = "median"'), "", "items[0].reconcile",
         "must be one of"),
        (None, '[progression]\nstir = "pattern"\nt1 = "edema"\n', "progression.stir", "unknown or nominal measure"),
        (None, '[progression]\nstir = "edema"\nt1 = "edema"\nregions = ["arm"]\n', "progression.regions",
         "unknown region 'arm'"),
        (None, '[agreement]\nmin_pairs = 0\n', "agreement.min_pairs", "whole number"),
    ],
)
def test_invalid_protocol_is_named(tmp_path: Path, library, replace: tuple[str, str] | None, append: str, key: str,
                                   problem: str) -> None:
    """Each kind of invalid protocol names the file, the key and what is wrong."""
    text = PROTOCOL.replace(*replace, 1) if replace else PROTOCOL
    path = tmp_path / "bad_protocol.toml"
    path.write_text(text + append, encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_protocol(path, library.scales, library.atlases)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert problem in err.value.problem


def test_valid_custom_protocol_loads(tmp_path: Path, library) -> None:
    """The fixture protocol itself is valid: the failures above are the edits."""
    path = tmp_path / "p.toml"
    path.write_text(PROTOCOL, encoding="utf-8")
    protocol = load_protocol(path, library.scales, library.atlases)
    assert len(protocol.items) == 6 * 2 + 2
    assert len(protocol.hash) == 64


def _scale_file(folder: Path, level_extra: str, head_extra: str = "") -> Path:
    path = folder / "card.toml"
    path.write_text(f"""
[scale]
name = "card"
kind = "ordinal"
title = "Card test"
{head_extra}

[[level]]
code = "0"
value = 0
label = "Absent"
definition = "Absent."
{level_extra}

[[level]]
code = "1"
value = 1
label = "Present"
definition = "Present."
""", encoding="utf-8")
    return path


def test_scale_cards_load_descriptions_and_images(tmp_path) -> None:
    """A level's description and reference images load; the scale names their source."""
    from myoscore.schemes import load_scale

    (tmp_path / "absent.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    scale = load_scale(_scale_file(tmp_path, 'description = "Nothing to see."\nimages = ["absent.png"]',
                                   'description_source = "A textbook, p. 1"'))
    assert scale.levels[0].description == "Nothing to see."
    assert scale.levels[0].images == ("absent.png",)
    assert scale.levels[1].description == ""
    assert scale.description_source == "A textbook, p. 1"


@pytest.mark.parametrize(("level_extra", "head_extra", "where", "problem"), [
    ('images = ["missing.png"]', "", "level[0].images[0]", "does not exist"),
    ('images = ["../x.png"]', "", "level[0].images[0]", "relative to the scale's folder"),
    ('images = ["notes.txt"]', "", "level[0].images[0]", "not a PNG"),
    ('description = "Longer."', "", "scale.description_source", "is missing"),
    ("description = 3", 'description_source = "x"', "level[0].description", "non-empty string"),
])
def test_scale_card_errors_name_the_key(tmp_path, level_extra, head_extra, where, problem) -> None:
    from myoscore.domain import SchemeError
    from myoscore.schemes import load_scale

    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SchemeError) as caught:
        load_scale(_scale_file(tmp_path, level_extra, head_extra))
    assert where in str(caught.value)
    assert problem in str(caught.value)


def test_shipped_cards_keep_the_papers_words_and_cite_their_descriptions() -> None:
    """Edema 0–5 keeps seed 000's words as definitions; every described scale says where its
    descriptions come from; the snapshot keeps the descriptions (a read shows what it used)."""
    from myoscore.app.schemes import scheme_library
    from myoscore.schemes import protocol_from_json, protocol_to_json

    library = scheme_library()
    edema = library.scales["edema_0_5"]
    assert edema.level("2").definition == "Mild, intrafascicular, segmented (score 2)."
    assert "segment" in edema.level("2").description
    assert "global" in edema.level("3").description
    for scale in library.scales.values():
        if any(level.description for level in scale.levels):
            assert scale.description_source
    protocol = library.protocol("nxp2_lower_limb")
    again = protocol_from_json(protocol_to_json(protocol))
    assert again.scales["edema_0_5"].level("4").description == edema.level("4").description
    assert again.hash == protocol.hash


def test_mean_of_present_absent_is_refused_at_load(tmp_path: Path, library) -> None:
    """A present/absent measure declared ``reconcile = "mean"`` names the file and the key."""
    text = PROTOCOL.replace('scale = "edema_0_5"', 'scale = "present_absent"').replace(
        'sides = ["R", "L"]', 'sides = ["R", "L"]\nreconcile = "mean"', 1).replace(
        '[[derived]]\nname = "total"\nlabel = "Total"\nfunction = "sum"\nmeasure = "edema"\n', "")
    path = tmp_path / "binary_mean.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_protocol(path, library.scales, library.atlases)
    assert (err.value.file, err.value.key) == (str(path), "items[0].reconcile")
    assert "0.5" in err.value.problem
    assert str(path) in str(err.value)


def test_shipped_protocols_quote_each_papers_policy(library) -> None:
    """Seed 000 averages only muscle edema, and reviews the rest; seed 004 reviews every
    muscle. Every measure carries the paper's sentence."""
    nxp2 = library.protocol("nxp2_lower_limb")
    assert {p.measure: p.method.value for p in nxp2.policies} == {
        "edema": "mean", "fat": "review", "subcutaneous_edema": "review", "fascia_edema": "review",
        "edema_pattern": "review"}
    assert nxp2.policy("edema").quote == "The mean score of two observers was assigned as the degree of muscle edema."
    imnm = library.protocol("imnm_whole_body")
    assert {p.measure: p.method.value for p in imnm.policies} == {"stir": "review", "t1": "review"}
    assert "observers reviewed the muscles together to agree the final score" in imnm.policy("stir").quote
    seeds = Path(__file__).resolve().parents[3] / "shared" / "seeds"
    papers = " ".join(p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")) if seeds.is_dir() else ""
    for protocol in (nxp2, imnm):
        for policy in protocol.policies:
            assert policy.quote, (protocol.name, policy.measure)
            if papers:
                assert policy.quote in papers, policy.quote


def test_seed_004_progression_scope_is_the_lower_body(library) -> None:
    """Seed 004's longitudinal analysis covers the lower-body regions only (stored in the snapshot)."""
    imnm = library.protocol("imnm_whole_body")
    assert imnm.progression is not None
    assert imnm.progression.regions == ("pelvis", "thigh", "leg", "lumbar")
    assert (imnm.progression.stir_measure, imnm.progression.t1_measure) == ("stir", "t1")
    again = protocol_from_json(protocol_to_json(imnm))
    assert again.progression == imnm.progression
    assert again.policies == imnm.policies
    assert again.hash == imnm.hash


def test_old_snapshot_without_policies_reviews_everything(library) -> None:
    """A snapshot stored before policies were data loads with joint review for every measure."""
    import json

    data = json.loads(protocol_to_json(library.protocol("nxp2_lower_limb")))
    for key in ("policies", "progression", "min_pairs"):
        data.pop(key)
    old = protocol_from_json(json.dumps(data))
    assert old.policies == ()
    assert old.policy_of("edema.thigh.anterior.R").value == "review"
    assert old.progression is None
    assert old.min_pairs == 10
