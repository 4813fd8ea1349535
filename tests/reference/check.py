"""Runs every reference transcription and compares what it prints with the numbers the C# tests quote.

For each test method, every ShouldBe(label, numbers...) call must match the reference's line for
the same label to within 1e-6 (the tests quote six decimals). Exits non-zero on any mismatch or on
a quoted value the reference does not produce.
"""
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
TESTS = HERE.parent / "MannLab.Models.Tests"
PAIRS = [
    ("lrua_reference.py", "LruaHandComputedTests.cs"),
    ("ntm_reference.py", "NtmHandComputedTests.cs"),
    ("feedforward_mann_reference.py", "FeedForwardMannHandComputedTests.cs"),
]
TOLERANCE = 1e-6


def quoted(cs_text):
    """{(method, label): [numbers]} for every ShouldBe call whose expected values are all literals."""
    text = re.sub(r"//[^\n]*", "", cs_text)
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"public void (\w+)\(", text)]
    found, skipped = {}, []
    for k, (start, method) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(text)
        for call in re.finditer(r"ShouldBe\(\s*([^,]+?)\s*,(.*?)\);", text[start:end], re.S):
            label = call.group(1).replace("!", "")
            try:
                found[(method, label)] = [float(v) for v in call.group(2).split(",")]
            except ValueError:
                skipped.append(f"{method}: {label}")
    return found, skipped


def printed(script):
    out = subprocess.run([sys.executable, str(HERE / script)], check=True, capture_output=True, text=True, cwd=HERE).stdout
    lines = {}
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        head, values = line.split(" = ", 1)
        method, label = head.split(": ", 1)
        lines[(method, label)] = [float(v) for v in values.split(",")]
    return lines


def main():
    failures = 0
    for script, test_file in PAIRS:
        expected, skipped = quoted((TESTS / test_file).read_text())
        reference = printed(script)
        bad = []
        for key, values in expected.items():
            ref = reference.get(key)
            if ref is None:
                bad.append(f"  {key[0]}: {key[1]}: the reference prints no such value")
            elif len(ref) != len(values) or any(abs(a - b) > TOLERANCE for a, b in zip(ref, values)):
                bad.append(f"  {key[0]}: {key[1]}:\n    test      {values}\n    reference {ref}")
        print(f"{script} vs {test_file}: {len(expected) - len(bad)} of {len(expected)} quoted values match"
              + (f" ({len(skipped)} not literal, not compared: {', '.join(skipped)})" if skipped else ""))
        for b in bad:
            print(b)
        failures += len(bad)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
