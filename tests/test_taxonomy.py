import json

import pytest

from cinestudio.errors import UnknownClassError, UserInputError
from cinestudio.taxonomy import AXES, available_schemes, load_taxonomy


def test_default_scheme_has_the_20_cinematic2k_classes():
    tax = load_taxonomy()
    assert tax.scheme == "cinematic2k"
    assert {a: len(tax.axes[a]) for a in AXES} == {"framing": 5, "angle": 4, "movement": 11}
    assert tax.keys("angle") == ["eye_level", "high_angle", "low_angle", "overhead"]
    assert "rack_focus" in tax.keys("movement") and "dolly_in" in tax.keys("movement")


def test_every_class_has_label_definition_and_two_prompts():
    for scheme in available_schemes():
        tax = load_taxonomy(scheme)
        for axis in AXES:
            for cls in tax.classes(axis):
                assert cls.label and cls.definition
                assert len(cls.prompts) >= 2 and len(set(cls.prompts)) == len(cls.prompts)


def test_extended_is_a_superset_of_cinematic2k():
    base, ext = load_taxonomy("cinematic2k"), load_taxonomy("extended")
    for axis in AXES:
        assert ext.keys(axis)[: len(base.keys(axis))] == base.keys(axis)
    assert "dutch_angle" in ext.keys("angle") and "dutch_angle" not in base.keys("angle")
    assert len(set(ext.all_keys())) == len(ext.all_keys())


def test_unknown_key_and_scheme_are_clear_errors():
    tax = load_taxonomy()
    with pytest.raises(UnknownClassError) as err:
        tax.check("movement", "moonwalk")
    assert err.value.subject == "moonwalk" and "movement" in err.value.reason
    with pytest.raises(UnknownClassError):
        tax.check("angle", "pan_left")  # a real key on another axis
    with pytest.raises(UserInputError, match="unknown taxonomy scheme"):
        load_taxonomy("no-such-scheme")


def test_user_scheme_file_loads_and_is_validated(tmp_path):
    custom = {"scheme": "tiny", "axes": {
        "framing": [{"key": "wide", "label": "Wide", "definition": "d", "prompts": ["a wide shot", "wide"]}],
        "angle": [{"key": "level", "label": "Level", "definition": "d", "prompts": ["level", "eye level"]}],
        "movement": [{"key": "still", "label": "Still", "definition": "d", "prompts": ["still", "static"]}]}}
    path = tmp_path / "mon schéma.json"
    path.write_text(json.dumps(custom), encoding="utf-8")
    tax = load_taxonomy(str(path))
    assert tax.scheme == "tiny" and tax.all_keys() == ["wide", "level", "still"]

    custom["axes"]["movement"][0]["prompts"] = ["only one"]
    path.write_text(json.dumps(custom), encoding="utf-8")
    with pytest.raises(UserInputError, match="at least 2 prompts"):
        load_taxonomy(str(path))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserInputError, match="not valid JSON"):
        load_taxonomy(str(path))
