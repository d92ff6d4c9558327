// Third-party actions the registry workflows use, pinned to full commit SHAs (a tag can be moved;
// a commit cannot). The comment beside each pin names the release, for people and for Dependabot.
export const PINNED = {
  checkout: { uses: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  uploadArtifact: { uses: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02', version: 'v4.6.2' },
  uploadPagesArtifact: { uses: 'actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa', version: 'v3.0.1' },
  deployPages: { uses: 'actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e', version: 'v4.0.5' },
} as const;

export function uses(action: { uses: string; version: string }): string {
  return `${action.uses} # ${action.version}`;
}
