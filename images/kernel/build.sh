#!/usr/bin/env bash
# Build the cloudlet guest kernel (bzImage + vmlinux) from Debian's
# linux-source-6.1: `make tinyconfig`, merge cloudlet.config, build.
# The result is cached outside the clone, keyed by the hash of the fragment,
# this script and the linux-source package version, so CI runs on the same
# machine reuse it and only a changed fragment triggers a rebuild.
#
# usage: build.sh OUTDIR     (writes OUTDIR/bzImage, OUTDIR/vmlinux, OUTDIR/config)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
cache=${CLOUDLET_CACHE:-/var/cache/cloudlet}
src_tar=/usr/src/linux-source-6.1.tar.xz
frag=$here/cloudlet.config

[ -r "$src_tar" ] || { echo "images/kernel: $src_tar missing (run: make deps)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %s "$src_tar")
key=$( { cat "$frag" "$0"; echo "$srcver"; } | sha256sum | cut -c1-16)
dest=$cache/kernel/$key

mkdir -p "$cache/kernel"
# one build at a time: a concurrent caller waits, then finds the cache filled
exec 9>"$cache/kernel/.lock"
flock 9
if [ ! -f "$dest/bzImage" ] || [ ! -f "$dest/vmlinux" ]; then
    work=$(mktemp -d "$cache/kernel/build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "images/kernel: building guest kernel $key (linux-source $srcver; about 10 min on 2 cores)"
    echo "images/kernel: unpacking $src_tar"
    tar -C "$work" -xf "$src_tar"
    ksrc=$work/linux-source-6.1
    log=$work/build.log
    make -C "$ksrc" -s tinyconfig >"$log" 2>&1
    # merge_config.sh: later assignments win; -m merges only, olddefconfig resolves
    (cd "$ksrc" && scripts/kconfig/merge_config.sh -m .config "$frag") >>"$log" 2>&1
    make -C "$ksrc" -s olddefconfig >>"$log" 2>&1
    # Kconfig drops options whose dependencies are unmet without an error: check.
    missing=0
    while IFS= read -r line; do
        case "$line" in
            CONFIG_*=*) grep -qxF "$line" "$ksrc/.config" || { echo "images/kernel: $line did not survive olddefconfig" >&2; missing=1; } ;;
            "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}
                ! grep -q "^$opt=" "$ksrc/.config" || { echo "images/kernel: $opt should be unset" >&2; missing=1; } ;;
        esac
    done <"$frag"
    [ "$missing" = 0 ] || exit 1
    echo "images/kernel: compiling (log: $log)"
    start=$(date +%s)
    set +o pipefail
    make -C "$ksrc" -j"$(nproc)" bzImage vmlinux 2>&1 | tee -a "$log" |
        awk -v s="$start" '/^  (CC|AS|LD|AR)/ { n++; if (n % 500 == 0) { printf "images/kernel: %d objects, %d s\n", n, systime() - s; fflush() } }'
    rc=${PIPESTATUS[0]}
    set -o pipefail
    [ "$rc" = 0 ] || { tail -30 "$log" >&2; echo "images/kernel: build failed (log above)" >&2; exit 1; }
    mkdir -p "$work/out"
    cp "$ksrc/arch/x86/boot/bzImage" "$ksrc/vmlinux" "$work/out/"
    cp "$ksrc/.config" "$work/out/config"
    rm -rf "$dest"
    mv "$work/out" "$dest"
    echo "images/kernel: done in $(( $(date +%s) - start )) s: $(stat -c %s "$dest/bzImage") byte bzImage"
fi

mkdir -p "$out"
for f in bzImage vmlinux config; do
    # copy only when different, so make sees no change on a cache hit
    cmp -s "$dest/$f" "$out/$f" 2>/dev/null || cp "$dest/$f" "$out/$f"
done
