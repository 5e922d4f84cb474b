# Sourced by scripts/get-quadlet and scripts/build-systemd-image (bash).
# find_mirror prints the Debian mirror URI of this machine's own apt sources.
# --- find the Debian mirror URI in the machine's own apt sources ----------
# Picks the first enabled `deb` entry whose suite is the host's release
# codename (not -security/-updates) and that has the `main` component.
# Handles one-line *.list files and deb822 *.sources files.
find_mirror() {
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || { echo "cannot read VERSION_CODENAME from /etc/os-release" >&2; return 1; }
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v cn="$codename" '
            { sub(/#.*/, "") }
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                uri = $i; s = $(i + 1); main = 0
                for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
                if (s == cn && main) { print uri; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: paragraphs separated by blank lines; continuation lines
        # start with whitespace; field names are case-insensitive.
        awk -v cn="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" && \
                    (" " suites " ") ~ (" " cn " ") && (" " comps " ") ~ / main /) {
                    split(uris, u, " "); if (u[1] != "") { print u[1]; found = 1 }
                }
                types = uris = suites = comps = field = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); if (found) exit; next }
            /^[ \t]/ { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v)
                       if (field == "uris") uris = uris " " v
                       else if (field == "suites") suites = suites " " v
                       else if (field == "components") comps = comps " " v
                       next }
            {
                k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
                gsub(/^[ \t]+|[ \t]+$/, "", v); gsub(/[ \t]+/, " ", v); field = k
                if (k == "types") types = v
                else if (k == "uris") uris = v
                else if (k == "suites") suites = v
                else if (k == "components") comps = v
                else if (k == "enabled") enabled = tolower(v)
            }
            END { if (!found) flush() }' "$f"
    done | head -n1
}
