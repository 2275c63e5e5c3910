#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Validate a PGXN META.json against the Meta Spec 1.0.0 schema.

    tests/check_meta.py [META.json] [SCHEMA]

Prints one line per problem and exits 1 when there is one.
"""
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
meta_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "META.json")
schema_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    here, "pgxn", "meta-spec-1.0.0.schema.json")

with open(schema_path) as f:
    schema = json.load(f)
try:
    with open(meta_path) as f:
        meta = json.load(f)
except ValueError as e:
    print(f"{meta_path}: not JSON: {e}")
    sys.exit(1)

validator = jsonschema.Draft7Validator(
    schema, format_checker=jsonschema.draft7_format_checker)
errors = sorted(validator.iter_errors(meta), key=lambda e: list(e.path))
for e in errors:
    where = "/".join(str(p) for p in e.path) or "(top)"
    print(f"{meta_path}: {where}: {e.message}")
# What a schema cannot say: the files it names exist.
top = os.path.dirname(os.path.abspath(meta_path))
for ext, p in meta.get("provides", {}).items():
    for key in ("file", "docfile"):
        if key in p and not os.path.exists(os.path.join(top, p[key])):
            print(f"{meta_path}: provides/{ext}/{key}: {p[key]} does not exist")
            errors.append(key)
sys.exit(1 if errors else 0)
