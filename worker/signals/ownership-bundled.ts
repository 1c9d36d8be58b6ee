// The checked-in ownership rules travel inside the worker bundle, as the routing does.
import ownershipYaml from '../../config/signal_ownership.yaml?raw';
import { checkedOwnership } from './ownership.ts';
import type { OwnershipRules } from './ownership.ts';

export const BUNDLED_OWNERSHIP_YAML: string = ownershipYaml;

/** The bundled rules; 500 config_invalid when the file is broken. */
export function requireOwnership(): OwnershipRules {
  return checkedOwnership(BUNDLED_OWNERSHIP_YAML);
}
