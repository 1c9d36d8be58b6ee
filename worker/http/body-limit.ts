import { createMiddleware } from 'hono/factory';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../config/env.ts';
import { ApiError } from './errors.ts';

/** The body limit is configuration (MAX_BODY_BYTES), so the middleware is built per request. */
export const limitBody = createMiddleware<AppEnv>((c, next) => {
  const maxSize = c.get('config').MAX_BODY_BYTES;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('payload_too_large', `The request body exceeds ${maxSize} bytes.`);
    },
  })(c, next);
});
