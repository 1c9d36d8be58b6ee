import { z } from 'zod';

/** Message types the hub fans out (DESIGN.md, WebSocket contract). */
export const HUB_MESSAGE_TYPES = [
  'snapshot',
  'kpi_update',
  'event',
  'widget_data',
  'agent_action',
  'incident_status',
  'performance_metrics',
  'signal_update',
  'layout_update',
] as const;

export type HubMessageType = (typeof HUB_MESSAGE_TYPES)[number];

/** What a publisher hands the hub; seq and ts are the hub's to assign. */
export const PublishSchema = z.strictObject({
  type: z.enum(HUB_MESSAGE_TYPES).exclude(['snapshot']),
  data: z.record(z.string(), z.unknown()),
});
export type PublishInput = z.infer<typeof PublishSchema>;

export interface HubMessage {
  type: HubMessageType | 'hello' | 'error' | 'pong';
  seq: number;
  ts: string;
  [key: string]: unknown;
}

/** What a client may send over its socket. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('resume'), since: z.number().int().min(0) }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const MAX_CLIENT_MESSAGE_BYTES = 4_096;
