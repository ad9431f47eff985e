"""Converts a YAML document to compact JSON: yaml_to_json.py IN.yaml OUT.json.

Fails with the parser's message (file, line, column) when the YAML is invalid."""
import json
import os
import sys

import yaml

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    document = yaml.safe_load(f)
os.makedirs(os.path.dirname(target), exist_ok=True)
with open(target + ".tmp", "w", encoding="utf-8") as f:
    json.dump(document, f, separators=(",", ":"), ensure_ascii=False, default=str)
os.replace(target + ".tmp", target)
