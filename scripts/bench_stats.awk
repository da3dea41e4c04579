# bench_stats.awk -- summarize benchmark runs.
#
# Input: one run per line, "bench_id=ID rep=N name=... k=v ..." (a RESULT
# line with the workload id and repetition in front).
#
# mode=stats (default): one line per workload, back end and numeric field:
#   ID BACKEND FIELD MEDIAN MAX RUNS
# mode=json: the runs as a JSON array of objects, fields that look like
#   numbers unquoted.
#
# POSIX awk (mawk is fine): no asort, so a small insertion sort.

function is_number(v) {
    return v ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/
}

function json_str(v) {
    gsub(/\\/, "\\\\", v)
    gsub(/"/, "\\\"", v)
    return "\"" v "\""
}

{
    id = ""; be = ""
    for (i = 1; i <= NF; i++) {
        n = index($i, "=")
        if (n == 0) continue
        k = substr($i, 1, n - 1); v = substr($i, n + 1)
        if (k == "bench_id") id = v
        if (k == "backend") be = v
    }
    if (mode == "json") {
        out = ""
        for (i = 1; i <= NF; i++) {
            n = index($i, "=")
            if (n == 0) continue
            k = substr($i, 1, n - 1); v = substr($i, n + 1)
            out = out (out == "" ? "" : ", ") json_str(k) ": " (is_number(v) ? v : json_str(v))
        }
        printf "%s    {%s}", (NR > 1 ? ",\n" : ""), out
        next
    }
    if (id == "" || be == "") next
    for (i = 1; i <= NF; i++) {
        n = index($i, "=")
        if (n == 0) continue
        k = substr($i, 1, n - 1); v = substr($i, n + 1)
        if (k == "rep" || !is_number(v)) continue
        g = id SUBSEP be SUBSEP k
        if (!(g in cnt)) { order[++ngroups] = g }
        cnt[g]++
        val[g, cnt[g]] = v + 0
    }
}

END {
    if (mode == "json") { if (NR > 0) printf "\n"; exit }
    for (gi = 1; gi <= ngroups; gi++) {
        g = order[gi]; m = cnt[g]
        for (i = 1; i <= m; i++) s[i] = val[g, i]
        for (i = 2; i <= m; i++) {
            x = s[i]
            for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]
            s[j + 1] = x
        }
        med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
        split(g, parts, SUBSEP)
        printf "%s %s %s %.6g %.6g %d\n", parts[1], parts[2], parts[3], med, s[m], m
    }
}
