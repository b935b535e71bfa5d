/** Escapes text for an XML element or attribute. */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what this escapes
  return text.replace(/[<>&'"\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case "'":
        return '&apos;';
      case '"':
        return '&quot;';
      default:
        // Characters XML 1.0 cannot carry at all: S3 answers them as numeric references.
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

export type XmlValue = string | number | boolean | Date | undefined | null | XmlNode | XmlValue[];
export interface XmlNode {
  [element: string]: XmlValue;
}

/**
 * Serializes a plain object as XML elements, in insertion order: arrays repeat the element,
 * undefined/null are left out, dates are ISO 8601 (what S3 and the query protocol use).
 */
export function toXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) out += element(name, value);
  return out;
}

function element(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') return `<${name}>${toXml(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}
