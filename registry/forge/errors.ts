// Failures a user can act on, each with a stable code (see registry/errors.ts).
import { MedperfError } from '../errors.ts';

/** A merge the Action would refuse: validation findings or an unmet approval. */
export class MergeRefusedError extends MedperfError {
  constructor(message: string) {
    super('merge-refused', message);
  }
}

/** The PR is closed or merged and cannot take the requested action. */
export class PullNotOpenError extends MedperfError {
  constructor(message: string) {
    super('pull-not-open', message);
  }
}

/** Someone else pushed to the change's branch since it was read. */
export class NonFastForwardError extends MedperfError {
  constructor(message: string) {
    super('non-fast-forward', message);
  }
}

/** The forge's API failed after retries, or refused the request. */
export class ForgeApiError extends MedperfError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super('forge-api', message);
  }
}

/** No usable credentials, or the credentials do not allow the action. */
export class AuthError extends MedperfError {
  constructor(message: string) {
    super('auth', message);
  }
}

/** A review the forge does not allow (e.g. approving one's own PR). */
export class ReviewRefusedError extends MedperfError {
  constructor(message: string) {
    super('review-refused', message);
  }
}

/** A review of the commit the reviewer read, refused because the PR moved on since. */
export function movedOn(number: number, read: string, head: string): ReviewRefusedError {
  return new ReviewRefusedError(
    `pull request #${number} moved on to ${head.slice(0, 12)} since you read it at ${read.slice(0, 12)}; nothing was reviewed: look at it again (medperf-git pr view ${number}) and review it then`,
  );
}

/** The acting login may not do this to the pull request (close or merge someone else's change). */
export class NotPermittedError extends MedperfError {
  constructor(message: string) {
    super('not-permitted', message);
  }
}
