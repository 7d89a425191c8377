// ops/engines/cassandra-ready.mjs HOST PORT — Cassandra's readiness probe for ops/engines/cassandra.sh:
// a real CQL query (SELECT release_version FROM system.local) over the native protocol with the
// project's own driver (cassandra-driver). Prints the release version and exits 0 when it is
// answered; exits 1 (reason on stderr) when it is not. One attempt: the caller loops.
import process from 'node:process';
import cassandra from 'cassandra-driver';

const [host = '127.0.0.1', port = '19042'] = process.argv.slice(2);
const client = new cassandra.Client({
  contactPoints: [`${host}:${port}`],
  localDataCenter: 'datacenter1',
  socketOptions: { connectTimeout: 3000, readTimeout: 5000 },
  // One attempt, no reconnection loop in the background: the shell loop retries.
  policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(60_000) },
});

try {
  await client.connect();
  const rs = await client.execute('SELECT release_version FROM system.local');
  const version = rs.first()?.get('release_version');
  if (!version) throw new Error('system.local has no release_version');
  process.stdout.write(`${version}\n`);
  await client.shutdown();
  process.exit(0);
} catch (err) {
  process.stderr.write(`cassandra not ready at ${host}:${port}: ${err instanceof Error ? err.message : String(err)}\n`);
  await client.shutdown().catch(() => {});
  process.exit(1);
}
