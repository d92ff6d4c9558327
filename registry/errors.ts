// Expected failures carry a stable code and a message that says what to do next; the CLI prints
// them without a stack trace. Anything else is a bug and is shown with its stack.
export class MedperfError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class HashMismatchError extends MedperfError {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('hash-mismatch', `${what}: expected sha256 ${expected}, got ${actual}; nothing was run`);
  }
}

export class NotOwnerError extends MedperfError {
  constructor(message: string) {
    super('not-owner', message);
  }
}

export class ValidationFailedError extends MedperfError {
  constructor(message: string) {
    super('validation-failed', message);
  }
}

export class NotFoundError extends MedperfError {
  constructor(message: string) {
    super('not-found', message);
  }
}
