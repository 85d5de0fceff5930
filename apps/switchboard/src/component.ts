/**
 * A part of the platform that the launcher starts and stops: database, engine, sip-core, numbering, api...
 * Components start in order and stop in reverse order, so each one can rely on those started before it.
 */
export type ComponentStatus = 'up' | 'down' | 'disabled';

export interface ComponentHealth {
  status: ComponentStatus;
  detail?: string;
}

export interface RunningComponent {
  health(): Promise<ComponentHealth> | ComponentHealth;
  stop(): Promise<void>;
}

export interface Component {
  name: string;
  start(): Promise<RunningComponent>;
}

/** The state reported for a component that is switched off by configuration. */
export function disabledComponent(detail: string): RunningComponent {
  return { health: () => ({ status: 'disabled', detail }), stop: async () => {} };
}
