/**
 * The Postfix instances of the sending bench (`--suite send`), apart from the system's
 * `/etc/postfix` and from the Postfix + Dovecot anchor: each has its own configuration, queue
 * and log under one base folder, and is started and stopped with `postfix -c DIR`.
 *
 * - **remote**: the recipients' MTA, on `127.0.0.77:2525`. Takes mail for `remote.test` and
 *   every subdomain (any local part), offers STARTTLS (self-signed), and discards after the
 *   queue file is written — its `250` is Postfix's usual one, after the fsync.
 * - **relay**: Postfix as submission server and relay beside Sluice, on `127.0.0.78:2525`:
 *   STARTTLS required, AUTH PLAIN/LOGIN (Cyrus SASL, sasldb), MAIL FROM must be the login
 *   (`reject_sender_login_mismatch`), every `*.remote.test` relayed to the remote with
 *   opportunistic STARTTLS (`[127.0.0.77]:2525`, no MX lookup). The rest is Postfix 3.7's
 *   default (destination concurrency 20, connection cache, in_flow_delay 1 s). Delays are
 *   logged with 6 digits (`delay_logging_resolution_limit`): the bench takes the time of the
 *   remote's 250 from them.
 *
 * Postfix and sasl2-bin are installed with apt-get when missing (root), as the anchor does.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { commandExists, run } from './proc.ts';

export const REMOTE = { host: '127.0.0.77', port: 2525 } as const;
export const RELAY = { host: '127.0.0.78', port: 2525 } as const;
/** Recipient domains: d1.remote.test … dN.remote.test. */
export const remoteDomain = (n: number): string => `d${n}.remote.test`;

function sh(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

/** apt-get install postfix sasl2-bin when missing (Debian's "No configuration": no /etc/postfix/main.cf). */
export async function ensurePostfix(): Promise<string> {
  if (!commandExists('postfix') || !commandExists('saslpasswd2')) {
    if (userInfo().uid !== 0) throw new Error('postfix or saslpasswd2 missing, and installing them needs root');
    console.log('Postfix/sasl2-bin missing: apt-get install postfix sasl2-bin libsasl2-modules …');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    sh('sh', ['-c', 'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections']);
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'postfix', 'sasl2-bin', 'libsasl2-modules']]) {
      const done = await run('apt-get', args, { env });
      if (done.code !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${done.stderr}`);
    }
  }
  return sh('postconf', ['-d', '-h', 'mail_version']).trim();
}

/**
 * The public smtpd listener of /etc/postfix/master.cf: Debian's `smtp inet … smtpd`, or the line
 * the Postfix + Dovecot anchor's setup.sh installs in its place (`127.0.0.1:2525 inet … smtpd`).
 */
const SMTPD_LISTENER = /^(?:smtp|[^\s#]+:\d+)\s+inet\s.*\ssmtpd\s*$/;

/** Debian's master.cf with our smtpd listener and no chroot (nothing is copied into a jail). */
export function masterCf(listen: string, system = readFileSync('/etc/postfix/master.cf', 'utf8')): string {
  return system
    .split('\n')
    .map((line) => (SMTPD_LISTENER.test(line) ? `${listen} inet n - n - - smtpd` : line.replace(/^(\S+\s+(?:unix|unix-dgram|inet|fifo|pass)\s+[-yn]\s+[-yn]\s+)y(\s)/, '$1n$2')))
    .join('\n');
}

export class PostfixInstance {
  private constructor(
    readonly name: string,
    readonly dir: string,
  ) {}

  get configDir(): string {
    return join(this.dir, 'etc');
  }
  get logFile(): string {
    return join(this.dir, 'postfix.log');
  }
  get pidFile(): string {
    return join(this.dir, 'spool', 'pid', 'master.pid');
  }
  /** Bytes of the log so far (read the run's lines from here on). */
  logSize(): number {
    return existsSync(this.logFile) ? statSync(this.logFile).size : 0;
  }
  /** The log from byte `from` on. */
  logSince(from: number): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile).subarray(from).toString('utf8') : '';
  }

  /** A fresh instance folder (an old one of this name is stopped and removed). */
  private static async create(base: string, name: string, main: (dir: string) => string, listen: string): Promise<PostfixInstance> {
    const instance = new PostfixInstance(name, join(base, name));
    if (existsSync(instance.dir)) {
      await instance.stop();
      rmSync(instance.dir, { recursive: true, force: true });
    }
    for (const sub of ['etc', 'spool', 'data']) mkdirSync(join(instance.dir, sub), { recursive: true });
    const postfixUser = Number(sh('id', ['-u', 'postfix']).trim());
    chownSync(join(instance.dir, 'data'), postfixUser, -1); // data_directory belongs to mail_owner
    const etc = instance.configDir;
    sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(etc, 'key.pem'), '-out', join(etc, 'cert.pem'), '-days', '30', '-subj', `/CN=${name}.bench.test`]);
    const common = [
      'compatibility_level = 3.7',
      `queue_directory = ${join(instance.dir, 'spool')}`,
      `data_directory = ${join(instance.dir, 'data')}`,
      'meta_directory = /etc/postfix',
      // 127.0.0.77 is no interface address (all of 127/8 reaches lo): bind by master.cf instead.
      'inet_interfaces = all',
      'inet_protocols = ipv4',
      'alias_maps =',
      'alias_database =',
      'biff = no',
      `smtpd_tls_cert_file = ${join(etc, 'cert.pem')}`,
      `smtpd_tls_key_file = ${join(etc, 'key.pem')}`,
      `maillog_file = ${instance.logFile}`,
      `syslog_name = postfix-${name}`,
      'delay_logging_resolution_limit = 6',
    ];
    writeFileSync(join(etc, 'main.cf'), [...common, main(instance.dir), ''].join('\n'));
    writeFileSync(join(etc, 'master.cf'), masterCf(listen));
    return instance;
  }

  static async remote(base: string): Promise<PostfixInstance> {
    return PostfixInstance.create(base, 'remote', (dir) => {
      const etc = join(dir, 'etc');
      writeFileSync(join(etc, 'destinations.regexp'), '/(^|\\.)remote\\.test$/ OK\n');
      writeFileSync(join(etc, 'transport.regexp'), '/(^|\\.)remote\\.test$/ discard:\n');
      return [
        'myhostname = mx.remote.test',
        'mydomain = remote.test',
        `mydestination = regexp:${join(etc, 'destinations.regexp')}`,
        'local_recipient_maps =',
        `transport_maps = regexp:${join(etc, 'transport.regexp')}`,
        'mynetworks = 127.0.0.0/8',
        'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
        'smtpd_tls_security_level = may',
        'notify_classes =',
      ].join('\n');
    }, `${REMOTE.host}:${REMOTE.port}`);
  }

  /** `users`: the sender addresses (all with `password`) AUTH accepts; `domains`: how many dN.remote.test. */
  static async relay(base: string, users: readonly string[], password: string, domains: number): Promise<PostfixInstance> {
    const instance = await PostfixInstance.create(base, 'relay', (dir) => {
      const etc = join(dir, 'etc');
      mkdirSync(join(etc, 'sasl'), { recursive: true });
      writeFileSync(join(etc, 'sasl', 'smtpd.conf'), ['pwcheck_method: auxprop', 'auxprop_plugin: sasldb', 'mech_list: PLAIN LOGIN', `sasldb_path: ${join(etc, 'sasldb2')}`, ''].join('\n'));
      writeFileSync(join(etc, 'sender_login.regexp'), '/^(.*)$/ ${1}\n');
      const names = Array.from({ length: domains }, (_, i) => remoteDomain(i + 1));
      writeFileSync(join(etc, 'transport'), names.map((d) => `${d} smtp:[${REMOTE.host}]:${REMOTE.port}\n`).join(''));
      return [
        'myhostname = relay.bench.test',
        'mydomain = bench.test',
        'mydestination =',
        'local_recipient_maps =',
        `relay_domains = ${names.join(' ')}`,
        `transport_maps = texthash:${join(etc, 'transport')}`,
        'mynetworks =',
        'smtpd_tls_security_level = encrypt',
        'smtpd_tls_auth_only = yes',
        'smtp_tls_security_level = may',
        'smtpd_sasl_auth_enable = yes',
        'smtpd_sasl_type = cyrus',
        'smtpd_sasl_path = smtpd',
        `cyrus_sasl_config_path = ${join(etc, 'sasl')}`,
        `smtpd_sender_login_maps = regexp:${join(etc, 'sender_login.regexp')}`,
        'smtpd_sender_restrictions = reject_sender_login_mismatch',
        'smtpd_relay_restrictions = permit_sasl_authenticated, reject',
      ].join('\n');
    }, `${RELAY.host}:${RELAY.port}`);
    const db = join(instance.configDir, 'sasldb2');
    for (const user of users) {
      const [local, domain] = user.split('@');
      sh('saslpasswd2', ['-p', '-f', db, '-c', '-u', domain, local], `${password}\n`);
    }
    chownSync(db, Number(sh('id', ['-u', 'postfix']).trim()), -1); // smtpd reads it as postfix
    return instance;
  }

  async start(): Promise<void> {
    const done = await run('postfix', ['-c', this.configDir, 'start']);
    if (done.code !== 0) throw new Error(`postfix ${this.name} did not start (exit ${done.code}); see ${this.logFile}:\n${this.logSince(0).slice(-2000)}`);
  }

  async stop(): Promise<void> {
    if (existsSync(join(this.configDir, 'main.cf'))) await run('postfix', ['-c', this.configDir, 'stop']);
  }

  /** The master's pid (for CPU accounting of the whole tree). */
  masterPid(): number {
    return Number(readFileSync(this.pidFile, 'utf8').trim());
  }
}
