#!/usr/bin/env bash
# Package the staged tree as an OCI image layout (image-spec v1.0): one
# tar+gzip layer, a config (Entrypoint ["/init"], Cmd ["exit"]), a manifest,
# and index.json naming it `latest`. All JSON comes from jq; the layer is a
# ustar with sorted names, owner 0:0 and fixed mtimes, gzip -n: the same tree
# gives the same digests.
#
# usage: mkoci.sh TREE OUTDIR     (OUTDIR is replaced)
set -euo pipefail
tree=${1:?usage: mkoci.sh TREE OUTDIR}
out=${2:?usage: mkoci.sh TREE OUTDIR}
epoch=${SOURCE_DATE_EPOCH:-0}
export LC_ALL=C

# assembled beside OUTDIR and swapped in: no stale blobs from earlier builds
tmp=$out.tmp
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"

# blob FILE: move FILE into blobs/ under its digest, print "DIGEST SIZE"
blob() {
    local d s
    d=$(sha256sum "$1" | cut -d' ' -f1)
    s=$(stat -c %s "$1")
    mv "$1" "$tmp/blobs/sha256/$d"
    echo "sha256:$d $s"
}

# layer: entries named like `bin/sh` (no ./ prefix, no root entry), as
# docker save/podman do. ustar: the simplest format for any unpacker, and it
# fails loudly should a name or link target ever exceed its limits.
(cd "$tree" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | sort -z |
    tar --create --format=ustar --sort=name --mtime="@$epoch" \
        --owner=0 --group=0 --numeric-owner --null -T - -f -) >"$tmp/layer.tar"
diff_id=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$tmp/layer.tar"
read -r layer_digest layer_size < <(blob "$tmp/layer.tar.gz")

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
jq -cn --arg created "$created" --arg diff_id "$diff_id" '{
    created: $created,
    architecture: "amd64",
    os: "linux",
    config: {
        Entrypoint: ["/init"],
        Cmd: ["exit"],
        Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        WorkingDir: "/"
    },
    rootfs: { type: "layers", diff_ids: [$diff_id] },
    history: [{
        created: $created,
        created_by: "images/rootfs/stage.sh: busybox-static, applet links, overlay/"
    }]
}' >"$tmp/config.json"
read -r config_digest config_size < <(blob "$tmp/config.json")

jq -cn --arg cd "$config_digest" --argjson cs "$config_size" \
       --arg ld "$layer_digest" --argjson ls "$layer_size" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls }]
}' >"$tmp/manifest.json"
read -r manifest_digest manifest_size < <(blob "$tmp/manifest.json")

jq -n --arg md "$manifest_digest" --argjson ms "$manifest_size" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: $md,
        size: $ms,
        platform: { architecture: "amd64", os: "linux" },
        annotations: { "org.opencontainers.image.ref.name": "latest" }
    }]
}' >"$tmp/index.json"
jq -cn '{ imageLayoutVersion: "1.0.0" }' >"$tmp/oci-layout"

trap - EXIT
rm -rf "$out"
mv "$tmp" "$out"
echo "images: $out (manifest $manifest_digest, layer $layer_size bytes)"
