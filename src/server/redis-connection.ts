/**
 * One ioredis connection for the shared stores, configured for a service that must answer quickly: commands are
 * never queued while Redis is down (the request fails at once with 503 E_UNAVAILABLE instead of hanging), and the
 * client keeps reconnecting in the background, so service resumes by itself when Redis comes back.
 *
 * (BullMQ needs connections of its own with maxRetriesPerRequest: null; this one is for request-path reads and
 * writes.)
 */
import { createHash } from 'node:crypto';
import { Redis, ReplyError } from 'ioredis';
import { HeftyError } from '../errors.ts';

/** Replies that mean "Redis cannot serve now" rather than "this command is wrong". */
const TRANSIENT_REPLY = /^(OOM|LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

export interface RedisConnectionOptions {
  /** Longest wait for the first connection when opening, and for each reconnect attempt. */
  connectTimeoutMs?: number;
  /** Shown in CLIENT LIST, to tell roles apart. */
  name?: string;
}

export class RedisConnection {
  readonly client: Redis;
  /** Connections re-established after a loss (for metrics). */
  reconnects = 0;
  private everReady = false;
  private lastError: string | undefined;

  private constructor(client: Redis) {
    this.client = client;
    client.on('error', (error: Error) => (this.lastError = error.message));
    client.on('ready', () => {
      if (this.everReady) this.reconnects++;
      this.everReady = true;
    });
  }

  /** Connects, or rejects with E_UNAVAILABLE (and leaves nothing running) when Redis cannot be reached. */
  static async open(url: string, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const connectTimeout = options.connectTimeoutMs ?? 5000;
    const client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A command cut off by a lost connection fails (the request gets 503); it is never sent again later,
      // behind the back of a caller that has already been told it failed.
      autoResendUnfulfilledCommands: false,
      connectTimeout,
      connectionName: options.name ?? 'hefty',
      // Forever, backing off to one attempt a second: Redis coming back must be noticed soon.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
    });
    const connection = new RedisConnection(client);
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw new HeftyError('E_UNAVAILABLE', `Redis at ${redactUrl(url)} cannot be reached: ${message(error)}`, {
        cause: error,
      });
    }
    return connection;
  }

  /** Whether commands can be sent now. */
  get up(): boolean {
    return this.client.status === 'ready';
  }

  /** Why Redis is down, when it is. */
  get problem(): string | undefined {
    return this.up ? undefined : (this.lastError ?? this.client.status);
  }

  /** Runs Redis work; connection loss and "cannot serve now" replies become 503 E_UNAVAILABLE. */
  async run<T>(work: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await work(this.client);
    } catch (error) {
      throw toHeftyError(error);
    }
  }

  /** The server's maxmemory-policy, or undefined where CONFIG is not allowed (some managed services). */
  async evictionPolicy(): Promise<string | undefined> {
    try {
      const reply = (await this.client.config('GET', 'maxmemory-policy')) as string[];
      return reply[1];
    } catch (error) {
      if (error instanceof ReplyError) return undefined;
      throw toHeftyError(error);
    }
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}

export function toHeftyError(error: unknown): unknown {
  if (error instanceof HeftyError) return error;
  if (error instanceof ReplyError && !TRANSIENT_REPLY.test((error as Error).message)) return error;
  return new HeftyError('E_UNAVAILABLE', `the shared store (Redis) is unavailable: ${message(error)}`, {
    cause: error,
  });
}

/** A Lua script run by its SHA-1, loaded on first use and again after a Redis restart empties the script cache. */
export class LuaScript {
  private readonly sha: string;
  readonly source: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, args: readonly (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, 0, ...args);
    } catch (error) {
      if (error instanceof ReplyError && (error as Error).message.startsWith('NOSCRIPT')) {
        return client.eval(this.source, 0, ...args);
      }
      throw error;
    }
  }

  /** As run(), with bulk replies as Buffers (for binary values). */
  async runBuffer(client: Redis, args: readonly (string | number | Buffer)[]): Promise<unknown> {
    const buffers = client as unknown as BufferScripting;
    try {
      return await buffers.evalshaBuffer(this.sha, 0, ...args);
    } catch (error) {
      if (error instanceof ReplyError && (error as Error).message.startsWith('NOSCRIPT')) {
        return buffers.evalBuffer(this.source, 0, ...args);
      }
      throw error;
    }
  }
}

/** ioredis makes a …Buffer variant of every command; its types list only some. */
interface BufferScripting {
  evalshaBuffer(sha: string, keys: number, ...args: (string | number | Buffer)[]): Promise<unknown>;
  evalBuffer(source: string, keys: number, ...args: (string | number | Buffer)[]): Promise<unknown>;
}
