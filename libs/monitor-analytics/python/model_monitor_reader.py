#!/usr/bin/env python3
"""A reader of SageMaker Model Monitor's report files, written from the AWS documentation alone
(Amazon SageMaker Developer Guide: "Schema for Statistics (statistics.json file)", "Schema for
Constraints (constraints.json file)", "Schema for Violations (constraint_violations.json file)"),
independently of the TypeScript code that writes them.

Like the SageMaker Python SDK's `Statistics`, `Constraints` and `ConstraintViolations`, each class
holds the parsed document as `body_dict`; unlike them, it also checks every documented field and
type, and names the file and field that is wrong.

    python3 model_monitor_reader.py <file or folder>...   # every statistics.json, constraints.json
                                                           # and constraint_violations.json found
Prints one JSON line per file read; exits 1 if any file does not follow the documented schema.
Standard library only (the SageMaker SDK cannot be installed here).
"""
import json
import os
import sys

CHECK_TYPES = {
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
}
ENABLED = {"Enabled", "Disabled"}


class SchemaError(ValueError):
    pass


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(condition, where, message):
    if not condition:
        raise SchemaError(f"{where}: {message}")


def _field(obj, key, where, kind=None):
    _require(isinstance(obj, dict), where, "expected an object")
    _require(key in obj, f"{where}.{key}", "missing")
    value = obj[key]
    if kind == "number":
        _require(_number(value), f"{where}.{key}", f"expected a number, got {value!r}")
    elif kind == "count":
        _require(_number(value) and value >= 0 and float(value).is_integer(), f"{where}.{key}", f"expected a count, got {value!r}")
    elif kind == "string":
        _require(isinstance(value, str), f"{where}.{key}", f"expected a string, got {value!r}")
    elif kind == "list":
        _require(isinstance(value, list), f"{where}.{key}", "expected a list")
    elif kind == "object":
        _require(isinstance(value, dict), f"{where}.{key}", "expected an object")
    return value


def _common(stats, where):
    common = _field(stats, "common", where, "object")
    _field(common, "num_present", f"{where}.common", "count")
    _field(common, "num_missing", f"{where}.common", "count")
    return common


class Statistics:
    """statistics.json: version, dataset.item_count, features[] with numerical_statistics or string_statistics."""

    def __init__(self, body_dict, where="statistics.json"):
        self.body_dict = body_dict
        _field(body_dict, "version", where, "number")
        dataset = _field(body_dict, "dataset", where, "object")
        self.item_count = _field(dataset, "item_count", f"{where}.dataset", "count")
        self.features = {}
        for i, feature in enumerate(_field(body_dict, "features", where, "list")):
            at = f"{where}.features[{i}]"
            name = _field(feature, "name", at, "string")
            kind = _field(feature, "inferred_type", at, "string")
            if kind in ("Fractional", "Integral"):
                stats = _field(feature, "numerical_statistics", at, "object")
                common = _common(stats, f"{at}.numerical_statistics")
                # A feature without any value has no mean or range to state.
                if common["num_present"] > 0:
                    for key in ("mean", "sum", "std_dev", "min", "max"):
                        _field(stats, key, f"{at}.numerical_statistics", "number")
                    kll = _field(_field(stats, "distribution", f"{at}.numerical_statistics", "object"), "kll", f"{at}.numerical_statistics.distribution", "object")
                    for j, bucket in enumerate(_field(kll, "buckets", f"{at}...kll", "list")):
                        for key in ("lower_bound", "upper_bound", "count"):
                            _field(bucket, key, f"{at}...kll.buckets[{j}]", "number")
                    sketch = _field(kll, "sketch", f"{at}...kll", "object")
                    parameters = _field(sketch, "parameters", f"{at}...kll.sketch", "object")
                    _field(parameters, "c", f"{at}...kll.sketch.parameters", "number")
                    _field(parameters, "k", f"{at}...kll.sketch.parameters", "number")
                    for j, level in enumerate(_field(sketch, "data", f"{at}...kll.sketch", "list")):
                        _require(isinstance(level, list) and all(_number(v) for v in level), f"{at}...kll.sketch.data[{j}]", "expected a list of numbers")
            elif kind == "String":
                stats = _field(feature, "string_statistics", at, "object")
                _common(stats, f"{at}.string_statistics")
                _field(stats, "distinct_count", f"{at}.string_statistics", "count")
                categorical = _field(_field(stats, "distribution", f"{at}.string_statistics", "object"), "categorical", f"{at}.string_statistics.distribution", "object")
                for j, bucket in enumerate(_field(categorical, "buckets", f"{at}...categorical", "list")):
                    _field(bucket, "value", f"{at}...categorical.buckets[{j}]", "string")
                    _field(bucket, "count", f"{at}...categorical.buckets[{j}]", "number")
            else:
                raise SchemaError(f"{at}.inferred_type: expected Fractional, Integral or String, got {kind!r}")
            self.features[name] = feature

    @classmethod
    def from_local_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f), path)


class Constraints:
    """constraints.json: version, features[] (name, inferred_type, completeness, ...), monitoring_config."""

    def __init__(self, body_dict, where="constraints.json"):
        self.body_dict = body_dict
        _field(body_dict, "version", where, "number")
        self.features = {}
        for i, feature in enumerate(_field(body_dict, "features", where, "list")):
            at = f"{where}.features[{i}]"
            name = _field(feature, "name", at, "string")
            kind = _field(feature, "inferred_type", at, "string")
            _require(kind in ("Integral", "Fractional", "String", "Unknown"), f"{at}.inferred_type", f"unknown type {kind!r}")
            completeness = _field(feature, "completeness", at, "number")
            _require(0 <= completeness <= 1, f"{at}.completeness", f"expected a share between 0 and 1, got {completeness!r}")
            if "num_constraints" in feature:
                _require(isinstance(_field(feature["num_constraints"], "is_non_negative", f"{at}.num_constraints"), bool), f"{at}.num_constraints.is_non_negative", "expected a boolean")
            if "string_constraints" in feature:
                domains = _field(feature["string_constraints"], "domains", f"{at}.string_constraints", "list")
                _require(all(isinstance(d, str) for d in domains), f"{at}.string_constraints.domains", "expected strings")
            if "monitoringConfigOverrides" in feature:
                _require(isinstance(feature["monitoringConfigOverrides"], dict), f"{at}.monitoringConfigOverrides", "expected an object")
            self.features[name] = feature
        config = _field(body_dict, "monitoring_config", where, "object")
        at = f"{where}.monitoring_config"
        for key in ("evaluate_constraints", "emit_metrics"):
            _require(_field(config, key, at) in ENABLED, f"{at}.{key}", "expected Enabled or Disabled")
        _field(config, "datatype_check_threshold", at, "number")
        _field(config, "domain_content_threshold", at, "number")
        distribution = _field(config, "distribution_constraints", at, "object")
        _require(_field(distribution, "perform_comparison", f"{at}.distribution_constraints") in ENABLED, f"{at}.distribution_constraints.perform_comparison", "expected Enabled or Disabled")
        _field(distribution, "comparison_threshold", f"{at}.distribution_constraints", "number")
        _require(_field(distribution, "comparison_method", f"{at}.distribution_constraints") in ("Simple", "Robust"), f"{at}.distribution_constraints.comparison_method", "expected Simple or Robust")
        if "categorical_comparison_threshold" in distribution:
            _field(distribution, "categorical_comparison_threshold", f"{at}.distribution_constraints", "number")
        if "categorical_drift_method" in distribution:
            _require(distribution["categorical_drift_method"] in ("LInfinity", "ChiSquared"), f"{at}.distribution_constraints.categorical_drift_method", "expected LInfinity or ChiSquared")

    @classmethod
    def from_local_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f), path)


class ConstraintViolations:
    """constraint_violations.json: violations[] with feature_name, constraint_check_type, description."""

    def __init__(self, body_dict, where="constraint_violations.json"):
        self.body_dict = body_dict
        self.violations = _field(body_dict, "violations", where, "list")
        for i, violation in enumerate(self.violations):
            at = f"{where}.violations[{i}]"
            _field(violation, "feature_name", at, "string")
            check = _field(violation, "constraint_check_type", at, "string")
            _require(check in CHECK_TYPES, f"{at}.constraint_check_type", f"not a documented check type: {check!r}")
            _field(violation, "description", at, "string")

    @classmethod
    def from_local_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f), path)


READERS = {"statistics.json": Statistics, "constraints.json": Constraints, "constraint_violations.json": ConstraintViolations}


def files_under(paths):
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in sorted(os.walk(path)):
                for name in sorted(names):
                    if name in READERS:
                        yield os.path.join(folder, name)
        else:
            yield path


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for path in files_under(argv):
        reader = READERS.get(os.path.basename(path))
        if reader is None:
            print(json.dumps({"file": path, "ok": False, "error": "not a Model Monitor file name"}))
            failed += 1
            continue
        try:
            document = reader.from_local_file(path)
        except (OSError, ValueError) as error:
            print(json.dumps({"file": path, "ok": False, "error": str(error)}))
            failed += 1
            continue
        line = {"file": path, "ok": True, "kind": reader.__name__}
        if isinstance(document, Statistics):
            line.update(item_count=document.item_count, features=list(document.features))
        elif isinstance(document, Constraints):
            line.update(features=list(document.features))
        else:
            line.update(violations=[[v["feature_name"], v["constraint_check_type"]] for v in document.violations])
        print(json.dumps(line))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
