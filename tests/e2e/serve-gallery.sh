# Replacements checked against the enrolled members (docs/server.md "Members in the guarantee"), sourced by
# tests/e2e/serve.sh (SQLite) and serve-pg.sh (PostgreSQL) after serve-scenario.sh; the caller defines db_for,
# dbq DB SQL (one value) and dbx DB SQL (statements, committed).
#
# 1. The gallery check runs: ann enrols (arcface and faceapi embeddings of her selfie), a group photo is analysed,
#    and every face's stored anon_check shows both recognizers' galleries with ann in them and the similarity of
#    each synthetic face to its nearest member below that recognizer's gallery threshold (a margin under its match
#    threshold: the draw is read again below by `mfmc verify`, which detects and aligns it itself on the served JPEG).
# 2. The gallery changes what is drawn: the synthetic face that replaced an unknown face is cut out of the render
#    and enrolled as the selfie of a new member, "mimic". The photo is analysed again (its job queued again by
#    hand: open keeps the original, the photo key and so the seeds stay the same, and the draws repeat), so the
#    draw that was accepted the first time is now that member's face: the anonymizer must reject it and draw again
#    or fall back, and the face's pixels change. A server that does not pass the galleries to mf_anon_face (or
#    keeps a gallery built before mimic enrolled) draws the very same face again and fails here.
gallery_scenario() {
    local db id U b1 t1 d1 t2 d2
    db=$(db_for gallery)
    PORT=$((BASEPORT + 40))
    rm -f "$T"/*.jar "$T"/*.csrf
    start_node g1 $PORT --db "$db" --access-model open --workers 1 || { fail=$((fail + 1)); return; }
    signup ann
    signup mimic
    api ann POST /api/enrol "@$T/ann-selfie.jpg" >/dev/null
    check "gallery: ann enrolled" wait_enrolled ann 1
    check "gallery: her selfie stored one embedding per recognizer of the guarantee (arcface, faceapi)" \
        test "$(dbq "$db" "select count(distinct model) from embeddings where model in ('arcface', 'faceapi')")" = 2
    api ann GET /api/enrol >/dev/null
    check "gallery: ann's enrolment is checked by every recognizer (primary_only 0)" test "$(jget 'd["primary_only"]')" = 0

    id=$(upload ann "$O")
    check "gallery: photo analysed" test "$(wait_photo ann "$id")" = ready
    # every face: both galleries held ann (1 member) and the check ran; synthetic faces are below every threshold
    for i in 0 1 2; do
        dbq "$db" "select anon_check from faces where photo_id = $id and idx = $i" >"$T/check$i.json"
    done
    check "gallery: every face's check ran against both galleries (1 member each)" python3 -c '
import json, sys
for p in sys.argv[1:]:
    d = json.load(open(p))
    r = d["recognizers"]
    assert set(r) == {"arcface", "faceapi"}, r
    for k, v in r.items():
        assert v["members"] == 1 and v["gallery_sim"] is not None, (p, k, v)
        # (gal39) the gallery threshold is a margin under the match threshold (docs/server.md)
        assert v["gallery_threshold"] < v["match_threshold"], (p, k, v)
        if d["decision"] == "accepted":
            assert v["gallery_sim"] < v["gallery_threshold"], (p, k, v)
' "$T/check0.json" "$T/check1.json" "$T/check2.json"

    # an unknown face replaced by an accepted synthetic face: its drawn face becomes a member's selfie
    api ann GET "/api/photos/$id/faces" >/dev/null
    U=$(jget "[f['idx'] for f in d if not f['yours'] and f.get('replacement') == 'synthetic'][0]")
    check "gallery: an unknown face got a synthetic face" test -n "$U"
    [ -n "$U" ] || return
    b1=$(box "$id" "$U")
    t1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tries"])' "$T/check$U.json")
    view ann "$id" "$T/g1.jpg"
    read -r x y w h <<<"$b1"
    "$IMG" crop "$T/g1.jpg" $((x - w / 2)) $((y - h / 2)) $((w * 2)) $((h * 2)) "$T/mimic.png"
    api mimic POST /api/enrol "@$T/mimic.png" >/dev/null
    check "gallery: the drawn face enrolled as mimic's selfie" wait_enrolled mimic 1

    # the same photo analysed again: same seeds, so the same draws, but the accepted one is now a member
    dbx "$db" "UPDATE photos SET state = 0 WHERE id = $id; DELETE FROM renders WHERE photo_id = $id;
               INSERT INTO jobs(kind, photo_id) VALUES (1, $id);"
    check "gallery: photo analysed again" test "$(wait_photo ann "$id")" = ready
    dbq "$db" "select anon_check from faces where photo_id = $id and idx = $U" >"$T/checkU2.json"
    check "gallery: the galleries were rebuilt after mimic enrolled (2 members each)" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["recognizers"]
assert all(v["members"] == 2 for v in r.values()), r' "$T/checkU2.json"
    check "gallery: the draw that looks like mimic was rejected: drawn again (tries $t1 before) or fallen back" \
        python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("   face", sys.argv[3], "tries before", sys.argv[2], "now", d["tries"], d["decision"], file=sys.stderr)
assert d["decision"] == "fallback" or d["tries"] > int(sys.argv[2]), d
if d["decision"] == "accepted":
    for k, v in d["recognizers"].items():
        assert v["gallery_sim"] < v["gallery_threshold"], (k, v)' "$T/checkU2.json" "$t1" "$U"
    view ann "$id" "$T/g2.jpg"
    check "gallery: the face's pixels changed (not mimic's face again)" shown "$T/g1.jpg" "$T/g2.jpg" "$b1" replaced
    check "gallery: the new face matches mimic's selfie under no recognizer" not_similar "$T/g1.jpg" "$T/g2.jpg" "$b1"
    api ann GET "/api/photos/$id/faces" >/dev/null
    check "gallery: the face is still unknown (mimic's selfie is not its person)" \
        test "$(jget "[f for f in d if f['idx'] == $U][0]['yours']")/$(jget "'person' in [f for f in d if f['idx'] == $U][0]")" = False/False
    stop_node g1
}
