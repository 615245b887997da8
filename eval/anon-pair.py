#!/usr/bin/env python3
"""Paired comparison of two eval_anon runs over the same faces and seeds (docs/anonymization.md: the paired figures).

usage: eval/anon-pair.py PEER.err THIS.err [--changed FILE]

PEER.err and THIS.err are the standard error of `BENCH_VERBOSE=1 eval_anon ...` on the same inputs (the same list,
so face i is the same face with the same seed in both). Per recognizer, the mean +- standard error of the per-face
similarity difference THIS - PEER (the `face N ...: sims` lines) is printed over:
  all          the faces in both runs whose similarity is valid in both;
  changed      ... of them, the faces whose draw log (`draws` line) differs;
  syn-both     the faces published as synthetic faces in both runs (not a filter fallback);
  syn-changed  ... of them, the faces whose draw log differs.
The draw log holds the similarities of the refused draws only, so two runs can publish different faces behind the
same log (another candidate chosen, as pick55 does): a line counts the faces with the same log but other
similarities. A line `tone` per run counts the faces whose skin chroma moved more than 4 and 6 levels against the
photo's and the strong faces whose skin-probe contrast ratio is over 1.4 (the `tone` lines). With --changed FILE the indexes (%04d)
of the syn-changed faces are written to FILE, those whose kind (synthetic / filter) differs to FILE.filt, and those
of syn-both whose published similarities differ at all (the pictures that changed, whatever the draw log) to
FILE.moved.
Exit 0; 2 on a usage error or an unreadable file.
"""
import math
import re
import sys

RECOGNIZERS = ["arcface", "faceapi", "faceres", "faceres-deep", "mobileface", "mobilefacenet-tflite"]
HEADER = re.compile(r"^(\.\./|/)\S*: ")  # a face's result line: its input path, as eval_anon prints it
SIMS = re.compile(r"^  face (\d+) \S+: sims (.*?); worst")
DRAWS = re.compile(r"^  draws (\S+):")
TONE = re.compile(r"^\s+tone \d+ \S+: dY (\S+) dC (\S+) contrast (\S+)(?: dS \S+ Y \S+)?( strong)?")


def load(path):
    """(sims by face index, result headers in order with their draw logs, tone tuples)"""
    sims, heads, tones = {}, [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = SIMS.match(line)
            if m:
                words = m.group(2).split()
                sims[int(m.group(1))] = dict(zip(words[::2], map(float, words[1::2])))
                continue
            if HEADER.match(line):
                heads.append({"line": line.strip(), "draws": None})
                continue
            m = DRAWS.match(line)
            if m and heads:
                heads[-1]["draws"] = m.group(1)
                continue
            m = TONE.match(line)
            if m:
                tones.append((float(m.group(1)), float(m.group(2)), float(m.group(3)), bool(m.group(4))))
    return sims, heads, tones


def kind(head):
    line = head["line"]
    return "filt" if "FALLBACK" in line and "synthetic fallback" not in line else "syn"


def mean_se(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((v - m) ** 2 for v in xs) / (len(xs) - 1))
    return m, sd / math.sqrt(len(xs))


def line_of(name, faces, a, b, valid_only):
    out = []
    for r in RECOGNIZERS:
        xs = [b[i][r] - a[i][r] for i in faces if r in a[i] and r in b[i] and (not valid_only or (a[i][r] > -1.5 and b[i][r] > -1.5))]
        if len(xs) < 2:
            continue
        m, se = mean_se(xs)
        out.append("%s %+.4f+-%.4f" % (r, m, se))
    return "%s %d %s" % (name, len(faces), "  ".join(out))


def main(argv):
    args, changed_file = [], None
    i = 1
    while i < len(argv):
        if argv[i] == "--changed" and i + 1 < len(argv):
            changed_file = argv[i + 1]
            i += 2
        elif argv[i] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        elif argv[i].startswith("-"):
            print("anon-pair.py: unknown option %s (--help)" % argv[i], file=sys.stderr)
            return 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print("usage: eval/anon-pair.py PEER.err THIS.err [--changed FILE]", file=sys.stderr)
        return 2
    try:
        (a, ha, ta), (b, hb, tb) = load(args[0]), load(args[1])
    except OSError as e:
        print("anon-pair.py: %s" % e, file=sys.stderr)
        return 2
    common = sorted(i for i in a if i in b)
    same = [i for i in common if i < len(ha) and i < len(hb) and ha[i]["draws"] == hb[i]["draws"]]
    print("faces both %d, same draw log %d, changed %d" % (len(common), len(same), len(common) - len(same)))
    same_set = set(same)
    moved = [i for i in common if a[i] != b[i]]  # any similarity of the published face differs
    print("same draw log but other similarities %d (published faces that differ: %d)" %
          (sum(i in same_set for i in moved), len(moved)))
    print(line_of("all", common, a, b, True))
    print(line_of("changed", [i for i in common if i not in same_set], a, b, True))
    both = [i for i in common if i < len(ha) and i < len(hb) and kind(ha[i]) == "syn" and kind(hb[i]) == "syn"]
    chs = [i for i in both if i not in same_set]
    print("published synthetic in both %d (changed %d); peer filtered %d, this filtered %d" %
          (len(both), len(chs), sum(kind(h) == "filt" for h in ha), sum(kind(h) == "filt" for h in hb)))
    print(line_of("syn-both", both, a, b, False))
    print(line_of("syn-changed", chs, a, b, False))
    for name, t in (("peer", ta), ("this", tb)):
        print("tone %s: faces %d, chroma change > 4: %d, > 6: %d; strong faces %d, contrast > 1.4: %d" %
              (name, len(t), sum(x[1] > 4 for x in t), sum(x[1] > 6 for x in t), sum(x[3] for x in t),
               sum(x[3] and x[2] > 1.4 for x in t)))
    if changed_file:
        with open(changed_file, "w") as f:
            f.write(" ".join("%04d" % i for i in chs) + "\n")
        with open(changed_file + ".filt", "w") as f:
            n = min(len(ha), len(hb))
            f.write(" ".join("%04d" % i for i in common if i < n and kind(ha[i]) != kind(hb[i])) + "\n")
        with open(changed_file + ".moved", "w") as f:
            f.write(" ".join("%04d" % i for i in both if a[i] != b[i]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
