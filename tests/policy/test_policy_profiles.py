"""Policy profiles: the shipped ones load; a bad one fails naming file, key path and problem."""

from __future__ import annotations

import copy

import pytest
import yaml

from gateway.domain.policy import Profile, ProfileError
from gateway.paths import POLICIES
from gateway.policy.profiles import available_profiles, load_profile


def _data(name="municipal-2021"):
    return yaml.safe_load((POLICIES / f"{name}.yaml").read_text(encoding="utf-8"))


def _write(tmp_path, data, name="broken.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _error(tmp_path, mutate) -> ProfileError:
    data = copy.deepcopy(_data())
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    assert exc.value.source == str(path)
    assert str(path) in str(exc.value)
    return exc.value


def test_shipped_profiles_load_and_name_themselves():
    assert {"municipal-2021", "national-2023"} <= set(available_profiles())
    for name in ("municipal-2021", "national-2023"):
        profile = load_profile(name)
        assert profile.name == name
        assert profile.source.endswith(f"{name}.yaml")


def test_loading_twice_reuses_the_parsed_profile():
    assert load_profile("municipal-2021") is load_profile("municipal-2021")


def test_every_list_case_cites_its_rules_section_and_source():
    for name in ("municipal-2021", "national-2023"):
        for kind, lp in load_profile(name).lists.items():
            for case in lp.cases:
                assert case.rules.startswith("§") and case.source, (name, kind, case.key)


def test_missing_key_is_named_with_its_path(tmp_path):
    err = _error(tmp_path, lambda d: d["lists"]["joint_punishment"].pop("period"))
    assert err.path == "lists.joint_punishment.period"
    assert err.problem == "required key is missing"


def test_wrong_type_is_named_with_its_path(tmp_path):
    err = _error(tmp_path, lambda d: d["lists"]["blacklist"]["period"].update(years="one"))
    assert err.path == "lists.blacklist.period.years"
    assert "integer" in err.problem


def test_unknown_key_is_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["bad_credit"].update(cascde=True))
    assert (err.path, err.problem) == ("bad_credit.cascde", "unknown key")


def test_unknown_violation_code_is_refused(tmp_path):
    err = _error(
        tmp_path, lambda d: d["lists"]["joint_punishment"]["cases"][3].update(violations=["jp99_unknown"])
    )
    assert err.path == "lists.joint_punishment.cases.3.violations.0"
    assert "jp02_unlicensed_operation" in err.problem


def test_level_not_in_the_level_list_is_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["bad_credit"]["accident_levels"][1].update(level="county"))
    assert err.path == "bad_credit.accident_levels.1.level"
    assert "unknown level 'county'" in err.problem


def test_entry_without_its_rules_section_is_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["incentive"]["conditions"]["no_dishonesty"].pop("rules"))
    assert err.path == "incentive.conditions.no_dishonesty.rules"


def test_counting_accidents_without_a_window_is_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["lists"]["blacklist"]["cases"][1]["accidents"].pop("window"))
    assert err.path == "lists.blacklist.cases.1.accidents.window"


def test_star_bands_out_of_order_are_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["ratings"]["stars"]["bands"].reverse())
    assert err.path == "ratings.stars.bands.1"


def test_fraud_list_must_exist_in_the_profile(tmp_path):
    def drop_blacklist(d):
        del d["lists"]["blacklist"]
        del d["measures"]["blacklist"]
        d["supervision"]["tiers"][0]["when"][0]["listed_on"] = ["joint_punishment"]

    err = _error(tmp_path, drop_blacklist)
    assert err.path == "incentive.on_fraud.list"


def test_zero_length_period_is_refused(tmp_path):
    err = _error(tmp_path, lambda d: d["incentive"].update(period={"years": 0}))
    assert err.path == "incentive.period"
    assert "greater than 0" in err.problem


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nlists: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    assert str(path) in str(exc.value) and "line" in exc.value.problem


def test_missing_profile_file_names_the_file_and_the_shipped_profiles():
    with pytest.raises(ProfileError) as exc:
        load_profile("provincial-2030")
    assert exc.value.source.endswith("provincial-2030.yaml")
    assert "municipal-2021" in exc.value.problem


def test_from_mapping_names_the_given_source():
    with pytest.raises(ProfileError) as exc:
        Profile.from_mapping({"name": "x"}, "inline")
    assert str(exc.value).startswith("inline: ")
