import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { neonConfig } from '@neondatabase/serverless';
import { ROLES } from '../worker/auth/roles.ts';
import type { Role } from '../worker/auth/roles.ts';
import { ensureUsers } from '../test/stack/users.ts';
import { startLocalPostgres } from '../test/stack/postgres/index.ts';

/**
 * `npm run user:create -- --email <email> --password <password> --role <viewer|editor|admin> [--name <name>]`
 * against DATABASE_URL (Neon in production) or the local dev database. Idempotent: an existing
 * email gets the new role, name and password.
 */
const { values } = parseArgs({
  options: { email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } },
  strict: true,
});
const fail = (message: string): never => {
  console.error(`user:create: ${message}`);
  process.exit(2);
};
const email = values.email?.trim().toLowerCase() ?? fail('--email is required');
const password = values.password ?? fail('--password is required');
const role = (values.role ?? fail('--role is required')) as Role;
if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || email.length > 254) fail('--email is not an email address');
if (password.length < 12 || password.length > 1024) fail('--password must be 12 to 1024 characters');
if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
const name = values.name?.trim() || email.split('@')[0]!;

const target = process.env.DATABASE_URL;
const users = [{ email, name, role, password }];
let result;
if (target && !/@(127\.0\.0\.1|localhost)[:/]/.test(target)) {
  neonConfig.webSocketConstructor = createRequire(import.meta.url)('ws');
  result = await ensureUsers(target, users);
} else {
  const local = await startLocalPostgres({ database: 'command_center', databaseUrl: target });
  try {
    result = await ensureUsers(local.databaseUrl, users);
  } finally {
    await local.close();
  }
}
const saved = result[0]!;
console.log(`${saved.created ? 'created' : 'updated'} ${saved.email} (${saved.role})`);
