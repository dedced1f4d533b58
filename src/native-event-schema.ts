// The event protocol of native/host/agent_handle.cc, as the TypeScript side
// reads it: a mirror of native/shared/event_schema.h (the one declaration;
// test/native-event-schema.test.ts parses it and fails if this file differs).
// Each object is one `enum class` of the header, its keys without the `k`.

/** Element 0 of every `[kind, ...]` tuple of a batch. */
export const HostEventKind = {
  Ready: 0,
  Message: 1,
  Console: 2,
  Error: 3,
  EvalResult: 4,
  Exit: 5,
  MessageError: 6,
  Diagnostic: 7,
  Drain: 8,
  HostCall: 9,
} as const;
export type HostEventKind = (typeof HostEventKind)[keyof typeof HostEventKind];

export const MessageField = { Value: 1 } as const;
export const ConsoleField = { Level: 1, Text: 2 } as const;
export const ErrorField = { Value: 1, Summary: 2, Phase: 3, OutOfMemory: 4, Code: 5 } as const;
export const EvalResultField = { Id: 1, Ok: 2, Value: 3, Summary: 4, Code: 5 } as const;
export const DiagnosticField = { Id: 1, Ok: 2, Partial: 3, Payload: 4 } as const;
export const HostCallField = { Id: 1, Method: 2, Sync: 3, Ok: 4, Value: 5 } as const;
export const ExitField = { Code: 1, Reason: 2 } as const;
export const ConsoleLevel = { Log: 0, Info: 1, Warn: 2, Error: 3, Debug: 4, Print: 5 } as const;
export const ErrorPhase = { Runtime: 0, Parse: 1, Resolution: 2 } as const;

/** Every enum of the header, by its C++ name (for the schema test). */
export const nativeEventSchema = {
  HostEventKind,
  MessageField,
  ConsoleField,
  ErrorField,
  EvalResultField,
  DiagnosticField,
  HostCallField,
  ExitField,
  ConsoleLevel,
  ErrorPhase,
} as const;

/** ConsoleLevel values as the names the 'console' event gives them. */
export const consoleLevelNames = ['log', 'info', 'warn', 'error', 'debug', 'print'] as const;
/** ErrorPhase values as the names AgentFailure gives them. */
export const errorPhaseNames = ['runtime', 'parse', 'resolution'] as const;
