#!/usr/bin/env bash
# Benchmarks `mfabot replay` on a synthetic CloudTrail corpus against its
# floor (zcat alone) and a jq one-liner, and prints one markdown table of wall
# time, throughput (uncompressed MB/s) and peak RSS, with the targets:
#   replay within 1.5x of zcat, at least 5x faster than jq, peak RSS < 150 MB.
# Replay also runs on a corpus half the size, to show that its memory does
# not grow with the input.
#
# Environment: MB (uncompressed corpus size, default 500), FILES (default 16),
# SEED (default 1), STRICT=1 to exit 1 when a target is missed.
set -euo pipefail

MB=${MB:-500}
FILES=${FILES:-16}
SEED=${SEED:-1}
STRICT=${STRICT:-0}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mfabot-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

log() { printf '%s\n' "$*" >&2; }

# Tools: GNU time for peak RSS, jq for the comparison.
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

log "building mfabot"
(cd "$root" && go build -o "$work/mfabot" ./cmd/mfabot)
bin=$work/mfabot

# Size the corpus from the bytes per record of a sample.
sample=20000
sample_bytes=$("$bin" simulate --records "$sample" --seed "$SEED" --format log 2>/dev/null | wc -c)
records=$(awk -v mb="$MB" -v b="$sample_bytes" -v n="$sample" 'BEGIN { printf "%d", mb * 1e6 / (b / n) * 1.01 + 1 }')

# gen DIR RECORDS generates a gzipped corpus and prints its uncompressed bytes.
gen() {
	"$bin" simulate --format gz --files "$FILES" --records "$2" --seed "$SEED" --out "$1" 2>"$work/gen.txt"
	grep -o '[0-9]* bytes of JSON' "$work/gen.txt" | cut -d' ' -f1
}
log "generating $records records (~$MB MB) in $FILES files"
full_bytes=$(gen "$work/full" "$records")
half_bytes=$(gen "$work/half" $((records / 2)))
log "corpus: $full_bytes bytes uncompressed, $(du -sb "$work/full" | cut -f1) bytes gzipped"
cat "$work"/full/*.json.gz "$work"/half/*.json.gz >/dev/null # warm the page cache

# measure NAME CMD... runs CMD under GNU time and sets NAME_secs and NAME_mb.
measure() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time.txt" "$@"
	local secs kb
	read -r secs kb <"$work/time.txt"
	printf -v "${name}_secs" '%s' "$secs"
	printf -v "${name}_mb" '%s' "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')"
}

log "running zcat, replay, replay on the half corpus, zcat | jq"
measure zcat zcat "$work"/full/*.json.gz >/dev/null
measure replay "$bin" replay --json "$work/full" >/dev/null 2>"$work/replay.txt"
measure half "$bin" replay --json "$work/half" >"$work/incidents.jsonl" 2>/dev/null
# The pipeline's RSS is that of its largest process.
measure jq bash -c 'zcat "$1"/*.json.gz | jq -c '\''.Records[] | select(.eventName=="ConsoleLogin" and .responseElements.ConsoleLogin=="Failure")'\'' >/dev/null' _ "$work/full"

rate() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", b / 1e6 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.01; printf "%.2f", a / b }'; }
check() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == "<=" ? v <= t : op == ">=" ? v >= t : v < t); print (ok ? "PASS" : "FAIL") }'; }

replay_zcat=$(ratio "$replay_secs" "$zcat_secs")
jq_replay=$(ratio "$jq_secs" "$replay_secs")
rss_full_half=$(ratio "$replay_mb" "$half_mb")
c1=$(check "$replay_zcat" "<=" 1.5)
c2=$(check "$jq_replay" ">=" 5)
c3=$(check "$replay_mb" "<" 150)
c4=$(check "$half_mb" "<" 150)

full_mb=$(awk -v b="$full_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')
half_size=$(awk -v b="$half_bytes" 'BEGIN { printf "%.0f", b / 1e6 }')
cat <<EOF

mfabot replay benchmark: $records records, $full_mb MB uncompressed in $FILES gzipped files; $(nproc) CPUs; $(go version | cut -d' ' -f3)

| | replay --json | zcat (floor) | zcat \| jq select | replay --json, half corpus ($half_size MB) | target |
|---|---:|---:|---:|---:|---|
| wall time (s) | $replay_secs | $zcat_secs | $jq_secs | $half_secs | |
| throughput (MB/s, uncompressed) | $(rate "$full_bytes" "$replay_secs") | $(rate "$full_bytes" "$zcat_secs") | $(rate "$full_bytes" "$jq_secs") | $(rate "$half_bytes" "$half_secs") | |
| peak RSS (MB) | $replay_mb | $zcat_mb | $jq_mb | $half_mb | replay < 150 MB: $c3 (half: $c4) |
| replay time / zcat time | ${replay_zcat}x | 1x | | | <= 1.5x: $c1 |
| jq time / replay time | 1x | | ${jq_replay}x | | >= 5x: $c2 |
| replay RSS, full / half corpus | ${rss_full_half}x | | | 1x | about 1x: size-independent |

replay on the full corpus: $(tail -n 1 "$work/replay.txt")
incidents on the half corpus: $(wc -l <"$work/incidents.jsonl")
EOF

if [[ $STRICT == 1 && "$c1$c2$c3$c4" == *FAIL* ]]; then
	exit 1
fi
