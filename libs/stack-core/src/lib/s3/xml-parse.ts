/** An element of a parsed request document: its local name (namespace prefix dropped), text and children. */
export interface XmlElement {
  name: string;
  text: string;
  children: XmlElement[];
}

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string, at: number): string {
  return text.replace(/&([^;&]*);|&/g, (whole, name: string | undefined) => {
    if (name === undefined) throw new XmlSyntaxError(`a bare "&" near character ${at}`);
    if (name in ENTITIES) return ENTITIES[name];
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#([0-9]{1,7})$/.exec(name)?.[1];
    if (code !== undefined) {
      const value = name[1] === 'x' ? parseInt(code, 16) : parseInt(code, 10);
      if (value > 0x10ffff) throw new XmlSyntaxError(`character reference ${whole} is out of range`);
      return String.fromCodePoint(value);
    }
    throw new XmlSyntaxError(`unknown entity ${whole} near character ${at}`);
  });
}

/**
 * Parses the small XML documents S3 requests carry (`<Delete>`, `<CompleteMultipartUpload>`,
 * `<CreateBucketConfiguration>`). Well-formedness is checked (one root, matching tags, known
 * entities); DOCTYPE is refused, so no entity expansion can be smuggled in.
 */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipMisc = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text.startsWith('<?', i)) {
        const end = text.indexOf('?>', i);
        if (end === -1) throw new XmlSyntaxError('unterminated processing instruction');
        i = end + 2;
      } else if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i);
        if (end === -1) throw new XmlSyntaxError('unterminated comment');
        i = end + 3;
      } else return;
    }
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  while (i < text.length) {
    if (stack.length === 0 && root) {
      skipMisc();
      if (i < text.length) throw new XmlSyntaxError(`content after the root element at character ${i}`);
      break;
    }
    if (text[i] !== '<') {
      const end = text.indexOf('<', i);
      const raw = text.slice(i, end === -1 ? text.length : end);
      if (stack.length === 0) throw new XmlSyntaxError(`text outside the root element at character ${i}`);
      stack[stack.length - 1].text += decodeEntities(raw, i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end === -1) throw new XmlSyntaxError('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end === -1 || stack.length === 0) throw new XmlSyntaxError('misplaced or unterminated CDATA section');
      stack[stack.length - 1].text += text.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', i)) throw new XmlSyntaxError('DOCTYPE and other declarations are not accepted');
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end === -1) throw new XmlSyntaxError('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (text[i + 1] === '/') {
      const match = /^<\/([^\s>]+)\s*>/.exec(text.slice(i, i + 300));
      const open = stack.pop();
      if (!match || !open) throw new XmlSyntaxError(`unexpected closing tag at character ${i}`);
      const name = match[1].slice(match[1].indexOf(':') + 1);
      if (name !== open.name) throw new XmlSyntaxError(`</${match[1]}> closes <${open.name}> at character ${i}`);
      i += match[0].length;
      continue;
    }
    const match = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(text.slice(i, i + 2000));
    if (!match) throw new XmlSyntaxError(`malformed start tag at character ${i}`);
    if (stack.length === 0 && root) throw new XmlSyntaxError('more than one root element');
    const element: XmlElement = { name: match[1].slice(match[1].indexOf(':') + 1), text: '', children: [] };
    if (stack.length) stack[stack.length - 1].children.push(element);
    else root = element;
    if (!match[3]) stack.push(element);
    i += match[0].length;
  }
  if (stack.length) throw new XmlSyntaxError(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new XmlSyntaxError('no root element');
  return root;
}

/** The first child named `name`. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
