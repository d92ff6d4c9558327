// The workflows a registry runs. The split follows conda-forge's staged-recipes linter: the
// workflow that sees the pull request's code (validate, on pull_request) holds a read-only token;
// the workflows that hold a write token (gate, comment, pages) check out only the base branch and
// read the pull request through the API as data. Nothing from a pull request is ever executed.
import { PINNED, requirePinned, uses } from './actions.ts';

export interface WorkflowOptions {
  /** The medperf-git Action, pinned to a commit: `owner/repo/action@<40-hex SHA>`. */
  action: string;
  /** The registry's default branch. */
  branch: string;
}

export function validateWorkflow(o: WorkflowOptions): string {
  return `# Checks every pull request against the registry's rules. Read-only: it may see fork code.
name: validate
on:
  pull_request:
    branches: [${o.branch}]
permissions:
  contents: read
concurrency:
  group: validate-\${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  validate:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      # The PR is read from git objects as data (head against merge base); nothing in it runs.
      - uses: ${uses(PINNED.checkout)}
        with:
          fetch-depth: 0
          persist-credentials: false
      - id: medperf
        uses: ${o.action}
        with:
          mode: validate
      - if: \${{ always() && steps.medperf.outputs.report != '' }}
        uses: ${uses(PINNED.uploadArtifact)}
        with:
          name: medperf-git-report
          path: \${{ steps.medperf.outputs.report }}
          retention-days: 7
`;
}

export function reviewWorkflow(): string {
  return `# Marks that a review was submitted or dismissed. It holds no token and runs nothing from the PR;
# its completion triggers the gate workflow, which re-reads the approvals with a write token.
name: review
on:
  pull_request_review:
    types: [submitted, dismissed]
permissions: {}
jobs:
  review:
    runs-on: ubuntu-latest
    timeout-minutes: 2
    steps:
      - env:
          PR: \${{ github.event.pull_request.number }}
          STATE: \${{ github.event.review.state }}
        run: echo "review $STATE on pull request $PR; the gate re-evaluates its approvals"
`;
}

export function gateWorkflow(o: WorkflowOptions): string {
  return `# The required status \`medperf-git/approval\`: which approvals a pull request still needs.
# pull_request_target and workflow_run run this file from ${o.branch}, with a token that may write
# statuses; the PR's files and reviews are read through the API, never checked out. It runs again
# after each review and after validate, so a PR that needs no approval lands once it validates.
name: gate
on:
  pull_request_target:
    branches: [${o.branch}]
    types: [opened, synchronize, reopened, ready_for_review]
  workflow_run:
    workflows: [review, validate]
    types: [completed]
permissions:
  contents: read
  pull-requests: read
  statuses: write
concurrency:
  group: gate-\${{ github.event.pull_request.number || github.event.workflow_run.head_sha }}
  cancel-in-progress: true
jobs:
  gate:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      # The base branch, not the pull request.
      - uses: ${uses(PINNED.checkout)}
        with:
          ref: ${o.branch}
          persist-credentials: false
      - uses: ${o.action}
        with:
          mode: gate
          # To merge result PRs and owners' own records without a human, grant
          # \`contents: write\`, \`pull-requests: write\` and \`actions: write\` above and set this
          # to true: the gate merges what can merge now, enables auto-merge for the rest, and
          # dispatches pages.yml, since a merge made with this token starts no workflow.
          auto-merge: false
          pages-workflow: pages.yml
          # Opens committee-only results to check them as clear ones; never printed. Empty (no
          # secret) holds every encrypted result. Its public half is registry.yaml's site_recipient.
          site-key: \${{ secrets.MEDPERF_GIT_SITE_KEY }}
`;
}

export function commentWorkflow(o: WorkflowOptions): string {
  return `# One comment per pull request, edited in place: the problems in plain words and, for results,
# where each model would rank. Runs from ${o.branch} after validate; reads the PR through the API.
name: comment
on:
  workflow_run:
    workflows: [validate]
    types: [completed]
permissions:
  contents: read
  pull-requests: write
concurrency:
  group: comment-\${{ github.event.workflow_run.head_sha }}
  cancel-in-progress: true
jobs:
  comment:
    if: github.event.workflow_run.event == 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: ${uses(PINNED.checkout)}
        with:
          ref: ${o.branch}
          persist-credentials: false
      - uses: ${o.action}
        with:
          mode: comment
`;
}

export function pagesWorkflow(o: WorkflowOptions): string {
  return `# The leaderboard site, built from ${o.branch} only and deployed with GitHub's Pages actions.
# A push to ${o.branch} starts it, except a push made with a workflow's GITHUB_TOKEN (the gate's
# merges, and auto-merges it enabled), which starts no workflow: the gate dispatches this one then.
name: pages
on:
  push:
    branches: [${o.branch}]
  workflow_dispatch:
permissions:
  contents: read
concurrency:
  group: pages
  cancel-in-progress: false
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 15
    steps:
      - uses: ${uses(PINNED.checkout)}
        with:
          # The whole of main: the leaderboard's history is read from its merges.
          fetch-depth: 0
          persist-credentials: false
      - uses: ${o.action}
        with:
          mode: site
          out: _site
          # Opens committee-only results; the site publishes only what each policy allows.
          site-key: \${{ secrets.MEDPERF_GIT_SITE_KEY }}
      - uses: ${uses(PINNED.uploadPagesArtifact)}
        with:
          path: _site
  deploy:
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: \${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: ${uses(PINNED.deployPages)}
`;
}

/** Every workflow of a registry; the Action must be pinned to a full commit SHA. */
export function workflows(o: WorkflowOptions): Record<string, string> {
  requirePinned(o.action);
  return {
    '.github/workflows/validate.yml': validateWorkflow(o),
    '.github/workflows/review.yml': reviewWorkflow(),
    '.github/workflows/gate.yml': gateWorkflow(o),
    '.github/workflows/comment.yml': commentWorkflow(o),
    '.github/workflows/pages.yml': pagesWorkflow(o),
  };
}
