#!/usr/bin/env python3
"""Keeps scripts/openapi.yaml true: replays its examples against a running node.

    python3 scripts/check-openapi.py --url http://127.0.0.1:5000   # against a node
    python3 scripts/check-openapi.py --url http://127.0.0.1:5000 -v  # ... showing every answer
    python3 scripts/check-openapi.py --lint                        # the document alone

First the document is checked on its own: every $ref resolves, every response example
matches its schema, every x-check names a documented example and a documented status, and
every documented status is exercised by some x-check.

Then, with --url, each operation's x-checks run in document order against the node. A
check names a request body example ("body"; "repeat": N stretches each of its lists to N
entries by repeating them, e.g. 1,001 ids where 1,000 is the most), a set of query
parameter examples ("params": every parameter that has an example of that name), a raw
body ("raw", sent as is), or an oversized body ("oversize": its size in bytes), and may
add request headers ("headers", e.g. a wrong Authorization or another site's Origin for
the 403 of an owner action). A parameter "in: path" with an example of the check's
"params" name fills its {name} in the path (otherwise its first example does); "first":
["POST /mine"] sends those requests before the check (with the owner token), so a check
can find a payment mined. The answer must have the documented status, Content-Type
application/json, and a JSON body matching the schema documented for that status, or the
component schema the check names ("schema": one branch of an anyOf answer, such as
CompactChain), plus any extra "required" fields and the values in "expect" (JSON pointer
-> the value found there, compared as JSON). Examples are written for the documented
server (servers[0].url); that address is replaced by --url in what is sent. Every path is
also sent the methods it does not document (405 expected), and an unknown path (404).

The checks change the node's state (they restart it, mine, post payments, register and
forget peers): run them on a node you can reset, ideally one just restarted, whose peers
are at genesis too (scripts/postman-test.sh does this). Those are owner actions (SPEC
section 5a): run from the node's own machine, or pass its <data-dir>/owner.token with
--token (or MC_OWNER_TOKEN), which goes as Authorization: Bearer with every request
except the checks that set their own headers (those play a stranger).

Python 3 standard library only; the YAML is read by the small parser below, which
understands the plain subset openapi.yaml is written in (see its header).
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

METHODS = ["get", "post", "put", "delete", "patch"]


# ---------------------------------------------------------------------------------------
# A parser for the YAML subset of openapi.yaml


class YamlError(Exception):
    pass


def parse_yaml(text):
    lines = []
    for number, raw in enumerate(text.split("\n"), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlError("line %d: tab in indentation" % number)
        lines.append([number, raw.rstrip()])
    parser = _Parser(lines)
    i = parser.next_content(0)
    if i >= len(lines):
        return None
    value, i = parser.block(i, parser.indent(i))
    i = parser.next_content(i)
    if i < len(lines):
        raise YamlError("line %d: unexpected indentation" % lines[i][0])
    return value


class _Parser:
    def __init__(self, lines):
        self.lines = lines

    def indent(self, i):
        text = self.lines[i][1]
        return len(text) - len(text.lstrip(" "))

    def text(self, i):
        return self.lines[i][1].strip()

    def is_content(self, i):
        t = self.text(i)
        return t != "" and not t.startswith("#")

    def next_content(self, i):
        while i < len(self.lines) and not self.is_content(i):
            i += 1
        return i

    def err(self, i, what):
        return YamlError("line %d: %s: %r" % (self.lines[i][0], what, self.lines[i][1]))

    def is_item(self, i):
        t = self.text(i)
        return t == "-" or t.startswith("- ")

    def block(self, i, indent):
        if self.is_item(i):
            return self.sequence(i, indent)
        return self.mapping(i, indent)

    def mapping(self, i, indent):
        result = {}
        while True:
            i = self.next_content(i)
            if i >= len(self.lines) or self.indent(i) < indent:
                return result, i
            if self.indent(i) > indent:
                raise self.err(i, "unexpected indentation")
            if self.is_item(i):
                return result, i
            split = split_key(self.text(i))
            if split is None:
                raise self.err(i, "expected 'key: value'")
            key, rest = split
            if key in result:
                raise self.err(i, "duplicate key %r" % key)
            result[key], i = self.value(i, indent, rest)

    def sequence(self, i, indent):
        result = []
        while True:
            i = self.next_content(i)
            if i >= len(self.lines) or self.indent(i) != indent or not self.is_item(i):
                if i < len(self.lines) and self.indent(i) > indent:
                    raise self.err(i, "unexpected indentation")
                return result, i
            content = self.text(i)[1:].strip()
            if content == "":
                j = self.next_content(i + 1)
                if j >= len(self.lines) or self.indent(j) <= indent:
                    result.append(None)
                    i = j
                else:
                    value, i = self.block(j, self.indent(j))
                    result.append(value)
            elif split_key(content) is not None:
                # "- key: value": a mapping whose first line starts after the dash.
                self.lines[i] = [self.lines[i][0], " " * (indent + 2) + content]
                value, i = self.mapping(i, indent + 2)
                result.append(value)
            else:
                result.append(scalar(content, self.lines[i][0]))
                i += 1

    def value(self, i, indent, rest):
        """The value after 'key:' on line i (rest is what follows the colon)."""
        if rest in ("|", "|-"):
            return self.literal(i, indent, keep_newline=rest == "|")
        if rest != "":
            return scalar(rest, self.lines[i][0]), i + 1
        j = self.next_content(i + 1)
        if j < len(self.lines) and self.indent(j) > indent:
            return self.block(j, self.indent(j))
        if j < len(self.lines) and self.indent(j) == indent and self.is_item(j):
            return self.sequence(j, indent)
        return None, i + 1

    def literal(self, i, indent, keep_newline):
        body = []
        j = i + 1
        block_indent = None
        while j < len(self.lines):
            raw = self.lines[j][1]
            if raw.strip() == "":
                body.append("")
                j += 1
                continue
            here = len(raw) - len(raw.lstrip(" "))
            if here <= indent:
                break
            if block_indent is None:
                block_indent = here
            if here < block_indent:
                raise self.err(j, "text block line less indented than its first line")
            body.append(raw[block_indent:])
            j += 1
        while body and body[-1] == "":
            body.pop()
        text = "\n".join(body)
        return (text + "\n" if keep_newline and body else text), j


def split_key(text):
    """'key: value' -> (key, 'value'); 'key:' -> (key, ''); otherwise None."""
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = 1
        while True:
            end = text.find(quote, end)
            if end < 0:
                return None
            if quote == "'" and text[end + 1 : end + 2] == "'":
                end += 2
                continue
            if quote == '"' and text[end - 1] == "\\":
                end += 1
                continue
            break
        after = text[end + 1 :]
        if after == ":" or after.startswith(": "):
            return scalar(text[: end + 1], 0), after[1:].strip()
        return None
    if text[:1] in ("{", "[", "|", ">", "&", "*", "!"):
        return None
    m = re.match(r"^([^:#]+?|[^ ]+?):( |$)", text)
    if not m:
        return None
    return m.group(1).strip(), text[m.end() :].strip()


def scalar(text, line):
    text = text.strip()
    try:
        if text.startswith('"') or text.startswith("{") or text.startswith("["):
            return json.loads(text)
    except json.JSONDecodeError as e:
        raise YamlError("line %d: not valid JSON: %s" % (line, e)) from None
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise YamlError("line %d: unterminated single-quoted string" % line)
        return text[1:-1].replace("''", "'")
    if " #" in text:
        raise YamlError("line %d: inline comments are outside the subset" % line)
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in ("null", "~", "Null"):
        return None
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", text):
        return float(text)
    if text[:1] in ("&", "*", "!", "%", "@", "`", "|", ">"):
        raise YamlError("line %d: %r is outside the subset" % (line, text))
    return text


# ---------------------------------------------------------------------------------------
# A JSON Schema (OpenAPI 3.0 flavour) validator for what the document uses


class Spec:
    def __init__(self, doc):
        self.doc = doc

    def resolve(self, schema):
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise KeyError("only local $ref is supported: %s" % ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
            schema = node
            seen += 1
            if seen > 50:
                raise KeyError("$ref loop at %s" % ref)
        return schema

    def validate(self, schema, value, where="$"):
        """Returns a list of problems (empty when value matches)."""
        schema = self.resolve(schema)
        problems = []
        if "oneOf" in schema:
            matches = [s for s in schema["oneOf"] if not self.validate(s, value, where)]
            if len(matches) != 1:
                problems.append("%s: matches %d of the oneOf schemas, not exactly 1: %s" % (
                    where, len(matches), short(value)))
            return problems
        if value is None and schema.get("nullable"):
            return problems
        kind = schema.get("type")
        type_ok = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }
        if kind is not None and not type_ok[kind](value):
            return ["%s: expected %s, got %s" % (where, kind, short(value))]
        if "enum" in schema and value not in schema["enum"]:
            problems.append("%s: %s is not one of %s" % (where, short(value), schema["enum"]))
        if isinstance(value, str):
            if "pattern" in schema and not re.search(schema["pattern"], value):
                problems.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
            if "minLength" in schema and len(value) < schema["minLength"]:
                problems.append("%s: shorter than %d" % (where, schema["minLength"]))
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                problems.append("%s: longer than %d" % (where, schema["maxLength"]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                problems.append("%s: %s is below %s" % (where, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                problems.append("%s: %s is above %s" % (where, value, schema["maximum"]))
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    problems.append("%s: required field %r is missing" % (where, name))
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            for name, v in value.items():
                if name in properties:
                    problems += self.validate(properties[name], v, "%s.%s" % (where, name))
                elif extra is False:
                    problems.append("%s: field %r is not documented (no other fields allowed)" % (where, name))
                elif isinstance(extra, dict):
                    problems += self.validate(extra, v, "%s[%r]" % (where, name))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                problems.append("%s: fewer than %d items" % (where, schema["minItems"]))
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                problems.append("%s: more than %d items" % (where, schema["maxItems"]))
            if "items" in schema:
                for n, v in enumerate(value):
                    problems += self.validate(schema["items"], v, "%s[%d]" % (where, n))
        for sub in schema.get("allOf", []):
            problems += self.validate(sub, value, where)
        if "anyOf" in schema:
            branches = [self.validate(sub, value, where) for sub in schema["anyOf"]]
            if all(branches):
                problems.append("%s: matches none of the anyOf schemas: %s" % (where, short(value)))
                for n, why in enumerate(branches):
                    problems += ["  (anyOf #%d) %s" % (n + 1, w) for w in why]
        return problems


def short(value, limit=200):
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------------------
# The document on its own


def operations(doc):
    """(path, method, operation) in document order."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def json_content(obj):
    return (obj or {}).get("content", {}).get("application/json", {})


def examples_of(media):
    """Named examples of a media type or parameter: {name: value}."""
    named = {k: v["value"] for k, v in (media.get("examples") or {}).items()}
    if "example" in media:
        named.setdefault("example", media["example"])
    return named


def lint(doc):
    spec = Spec(doc)
    problems = []

    def walk_refs(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    spec.resolve(node)
                except (KeyError, TypeError) as e:
                    problems.append("%s: $ref %s does not resolve (%s)" % (where, node["$ref"], e))
            for k, v in node.items():
                walk_refs(v, where + "/" + str(k))
        elif isinstance(node, list):
            for n, v in enumerate(node):
                walk_refs(v, "%s/%d" % (where, n))

    if not str(doc.get("openapi", "")).startswith("3.0"):
        problems.append("openapi: expected 3.0.x, got %r" % doc.get("openapi"))
    for key in ("info", "paths"):
        if key not in doc:
            problems.append("missing top-level %r" % key)
    walk_refs(doc, "#")
    if problems:
        return problems

    for name, response in doc.get("components", {}).get("responses", {}).items():
        media = json_content(response)
        for ex_name, value in examples_of(media).items():
            for p in spec.validate(media.get("schema", {}), value, "example %r" % ex_name):
                problems.append("components/responses/%s: %s" % (name, p))
    for needed in ("NotFound", "MethodNotAllowed"):
        if needed not in doc.get("components", {}).get("responses", {}):
            problems.append("components/responses/%s is missing (the 404 and 405 checks use it)" % needed)

    for path, method, op in operations(doc):
        name = "%s %s" % (method.upper(), path)
        responses = op.get("responses") or {}
        if not responses:
            problems.append("%s: no responses" % name)
        for code, response in responses.items():
            media = json_content(spec.resolve(response))
            if "schema" not in media:
                problems.append("%s %s: no application/json schema" % (name, code))
                continue
            for ex_name, value in examples_of(media).items():
                for p in spec.validate(media["schema"], value, "example %r" % ex_name):
                    problems.append("%s %s: %s" % (name, code, p))
        body_examples = examples_of(json_content(op.get("requestBody")))
        params = {p["name"]: p for p in (spec.resolve(p) for p in op.get("parameters", []))}
        checks = op.get("x-checks") or []
        if not checks:
            problems.append("%s: no x-checks" % name)
        exercised = set()
        for check in checks:
            status = str(check.get("status"))
            exercised.add(status)
            if status not in responses:
                problems.append("%s: x-check expects %s, which is not a documented response" % (name, status))
            if "headers" in check and not (isinstance(check["headers"], dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in check["headers"].items())):
                problems.append("%s: x-check headers must map header names to strings" % name)
            if "body" in check and check["body"] not in body_examples:
                problems.append("%s: x-check names body example %r, which is not documented" % (name, check["body"]))
            if "params" in check and not any(check["params"] in examples_of(p) for p in params.values()):
                problems.append("%s: x-check names parameter example %r, which no parameter has" % (name, check["params"]))
            if "body" in check and status.startswith("2") and "repeat" not in check:
                schema = json_content(op.get("requestBody")).get("schema")
                for p in spec.validate(schema, body_examples[check["body"]], "body %r" % check["body"]):
                    problems.append("%s: %s" % (name, p))
            if "repeat" in check and not (isinstance(check["repeat"], int) and check.get("body") in body_examples
                                          and any(isinstance(v, list) and v for v in body_examples[check["body"]].values())):
                problems.append("%s: x-check repeat needs a whole number and a body example with a non-empty list" % name)
            if "schema" in check:
                documented = json_content(spec.resolve(responses.get(status, {}))).get("schema") or {}
                wanted = "#/components/schemas/%s" % check["schema"]
                branches = [documented] + documented.get("anyOf", []) + documented.get("oneOf", [])
                if not any(isinstance(b, dict) and b.get("$ref") == wanted for b in branches):
                    problems.append("%s: x-check schema %r is not the documented %s schema nor one of its anyOf/oneOf" % (
                        name, check["schema"], status))
            if "expect" in check and not (isinstance(check["expect"], dict) and all(
                    isinstance(k, str) and (k == "" or k.startswith("/")) for k in check["expect"])):
                problems.append("%s: x-check expect must map JSON pointers (\"/a/0/b\") to values" % name)
        for code in responses:
            if code not in exercised:
                problems.append("%s: documented status %s is exercised by no x-check" % (name, code))
    return problems


# ---------------------------------------------------------------------------------------
# Against a node


def substitute(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [substitute(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, old, new) for k, v in value.items()}
    return value


def pointer_get(value, pointer):
    """(True, what JSON pointer `pointer` ("/chain/0/index") names in value) or (False, None)."""
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def call(method, url, data=None, timeout=120, headers=None, token=None):
    sent = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        sent["Authorization"] = "Bearer " + token
    sent.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def fill_path(spec, op, path, example):
    """`path` with each {name} replaced by that path parameter's example called `example`,
    or by its first example."""
    for p in (spec.resolve(p) for p in op.get("parameters", [])):
        if p.get("in") != "path":
            continue
        named = examples_of(p)
        if not named:
            continue
        value = named.get(example, next(iter(named.values())))
        path = path.replace("{%s}" % p["name"], urllib.parse.quote(str(value), safe=""))
    return path


def run_checks(doc, base, verbose=False, token=None):
    spec = Spec(doc)
    server = doc["servers"][0]["url"].rstrip("/")
    results = []  # (ok, line)

    def check_answer(label, want_status, got, schema, extra_required=(), expect=None):
        status, content_type, raw = got
        problems = []
        if status != want_status:
            problems.append("status %d, expected %d" % (status, want_status))
        if "application/json" not in content_type:
            problems.append("Content-Type %r, expected application/json" % content_type)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            problems.append("body is not JSON: %r" % raw[:200])
            body = None
        if body is not None and schema is not None and status == want_status:
            problems += spec.validate(schema, body)
            for name in extra_required:
                if not isinstance(body, dict) or name not in body:
                    problems.append("required field %r is missing" % name)
            for pointer, value in (expect or {}).items():
                found, here = pointer_get(body, pointer)
                if not found:
                    problems.append("expected %s = %s, but there is nothing there" % (pointer, short(value, 80)))
                elif json.dumps(here, sort_keys=True) != json.dumps(value, sort_keys=True):
                    problems.append("expected %s = %s, got %s" % (pointer, short(value, 80), short(here, 80)))
        if (problems or verbose) and body is not None:
            problems.append("answer: " + short(body, 400))
        results.append((not [p for p in problems if not p.startswith("answer: ")], label, problems))

    for path, method, op in operations(doc):
        body_examples = examples_of(json_content(op.get("requestBody")))
        for check in op.get("x-checks") or []:
            query = []
            data = None
            label_bits = []
            filled = fill_path(spec, op, path, check.get("params"))
            if "params" in check:
                for p in (spec.resolve(p) for p in op.get("parameters", [])):
                    named = examples_of(p)
                    if check["params"] in named and p.get("in") == "query":
                        value = substitute(named[check["params"]], server, base)
                        query.append((p["name"], str(value)))
                if query:
                    label_bits.append("?" + "&".join("%s=%s" % q for q in query))
            for request in check.get("first") or []:
                first_method, first_path = request.split(" ", 1)
                call(first_method, base + first_path, b"{}" if first_method == "POST" else None, token=token)
                label_bits.append("(after %s)" % request)
            if "body" in check:
                body = substitute(body_examples[check["body"]], server, base)
                if "repeat" in check:
                    n = int(check["repeat"])
                    body = {k: [v[i % len(v)] for i in range(n)] if isinstance(v, list) and v else v
                            for k, v in body.items()}
                    label_bits.append("[%s, its lists repeated to %d entries]" % (check["body"], n))
                else:
                    label_bits.append("[%s]" % check["body"])
                data = json.dumps(body).encode("utf-8")
            if "raw" in check:
                data = check["raw"].encode("utf-8")
                label_bits.append("[raw %s]" % short(check["raw"], 40))
            if "oversize" in check:
                size = int(check["oversize"])
                head, tail = b'{"sender": "', b'", "recipient": "bob", "amount": 1}'
                data = head + b"x" * (size - len(head) - len(tail)) + tail
                label_bits.append("[%d-byte body]" % size)
            if "headers" in check:
                label_bits.append("(%s)" % ", ".join(
                    "%s: %s" % (k, v[:20] + "..." if len(v) > 23 else v) for k, v in check["headers"].items()))
            url = base + filled
            if query:
                url += "?" + urllib.parse.urlencode(query, safe=",")
            want = int(check["status"])
            label = "%s %s%s -> %d" % (method.upper(), filled, " ".join([""] + label_bits), want)
            media = json_content(spec.resolve(op["responses"].get(str(want))))
            schema = media.get("schema")
            if "schema" in check:
                schema = {"$ref": "#/components/schemas/%s" % check["schema"]}
                label += " (%s)" % check["schema"]
            try:
                # A check with its own headers is a stranger's request: no owner token.
                got = call(method.upper(), url, data, headers=check.get("headers"),
                           token=None if "headers" in check else token)
            except (urllib.error.URLError, OSError) as e:
                results.append((False, label, ["no answer: %s" % e]))
                continue
            check_answer(label, want, got, schema, check.get("required", ()), check.get("expect", {}))

    shared = doc["components"]["responses"]
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                continue
            label = "%s %s (not documented) -> 405" % (method.upper(), path)
            data = b"{}" if method in ("post", "put", "patch") else None
            try:
                got = call(method.upper(), base + fill_path(spec, item[next(iter(
                    m for m in METHODS if m in item))], path, None), data, token=token)
            except (urllib.error.URLError, OSError) as e:
                results.append((False, label, ["no answer: %s" % e]))
                continue
            check_answer(label, 405, got, json_content(shared["MethodNotAllowed"]).get("schema"))
    label = "GET /no/such/route (unknown path) -> 404"
    check_answer(label, 404, call("GET", base + "/no/such/route", token=token), json_content(shared["NotFound"]).get("schema"))
    return results


def main():
    p = argparse.ArgumentParser(description="Check scripts/openapi.yaml, and replay it against a node.")
    p.add_argument("--spec", default=None, help="the OpenAPI document (default: openapi.yaml next to this script)")
    p.add_argument("--url", help="base URL of a running node, e.g. http://127.0.0.1:5000")
    p.add_argument("--lint", action="store_true", help="check the document alone (the default without --url)")
    p.add_argument("--token", default=os.environ.get("MC_OWNER_TOKEN") or None,
                   help="the node's owner token (<data-dir>/owner.token), for owner actions from another machine")
    p.add_argument("-v", "--verbose", action="store_true", help="show every answer, not only the failing ones")
    p.add_argument("--dump", action="store_true", help="print the parsed document as JSON and exit")
    args = p.parse_args()

    path = args.spec or os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.yaml")
    try:
        with open(path, encoding="utf-8") as f:
            doc = parse_yaml(f.read())
    except (OSError, YamlError) as e:
        print("check-openapi: cannot read %s: %s" % (path, e), file=sys.stderr)
        return 2
    if args.dump:
        print(json.dumps(doc, indent=2, sort_keys=True))
        return 0

    problems = lint(doc)
    count = sum(1 for _ in operations(doc))
    if problems:
        print("check-openapi: %s has %d problem(s):" % (path, len(problems)))
        for prob in problems:
            print("  - " + prob)
        return 1
    print("check-openapi: %s: %d paths, %d operations; refs, examples and x-checks are consistent" % (
        path, len(doc["paths"]), count))
    if not args.url:
        return 0

    base = args.url.rstrip("/")
    results = run_checks(doc, base, args.verbose, (args.token or "").strip() or None)
    failed = 0
    for ok, label, why in results:
        print("  %s  %s" % ("ok  " if ok else "FAIL", label))
        for w in why:
            print("          " + w)
        failed += not ok
    print("check-openapi: %d checks against %s, %d passed, %d failed" % (
        len(results), base, len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
