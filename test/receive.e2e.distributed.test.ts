/**
 * The receiving end-to-end suite (`receive.e2e.test.ts`), unchanged, on the distributed engines
 * of `ops/cluster.example.yaml` (Cassandra, OpenSearch, S3; the log embedded until Kafka lands),
 * each run in a keyspace, index and bucket of its own (`harness/engines.ts`).
 */
import { useEngines } from './harness/use-engines.ts';

useEngines('ops/cluster.example.yaml');
await import('./receive.e2e.test.ts');
