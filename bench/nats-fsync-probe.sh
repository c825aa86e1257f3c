#!/usr/bin/env bash
# Counts fsync/fdatasync calls a fresh nats-server makes while acknowledging JetStream publishes.
# Evidence for docs/adr/0007-lost-messages-and-redrive.md. Needs strace (apt-get install strace).
set -euo pipefail
cd "$(dirname "$0")/.."
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
STORE=$(mktemp -d)
OUT=$(mktemp)
"$NATS_SERVER" -a 127.0.0.1 -p "$PORT" -js -sd "$STORE" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$STORE" "$OUT"' EXIT
sleep 0.5
PUBLISHES=${PUBLISHES:-200}
strace -f -e trace=fsync,fdatasync,sync_file_range -p "$SERVER" -o "$OUT" 2>/dev/null &
TRACER=$!
sleep 0.5
PORT=$PORT PUBLISHES=$PUBLISHES node -e "
const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager } = require('@nats-io/jetstream');
(async () => {
  const nc = await connect({ servers: '127.0.0.1:' + process.env.PORT });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'FSYNC_PROBE', subjects: ['fsync.probe'] });
  const js = jetstream(nc);
  for (let i = 0; i < Number(process.env.PUBLISHES); i++) await js.publish('fsync.probe', 'x');
  console.log('server', nc.info.version, 'acknowledged publishes', process.env.PUBLISHES);
  await nc.close();
})();
"
sleep 0.5
kill "$TRACER" 2>/dev/null || true
wait "$TRACER" 2>/dev/null || true
echo "fsync/fdatasync calls while acknowledging: $(grep -cE 'fsync|fdatasync|sync_file_range' "$OUT" || true)"
