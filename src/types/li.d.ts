declare module 'li' {
  /** Formats `{ rel: url }` as an RFC 8288 Link header value: `<url>; rel="rel"`. */
  export function stringify(links: Record<string, string>): string
  export function parse(header: string): Record<string, string>
}
