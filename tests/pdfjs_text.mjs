// Print what pdf.js (Firefox's PDF engine) extracts from a PDF, as JSON on stdout:
//   {"pages": ["text of page 1", ...], "links": [[page, [x0, y0, x1, y1], "uri or dest"], ...]}
// Used by tests/validators.py; run as `node tests/pdfjs_text.mjs file.pdf`.
import { readFileSync } from "node:fs";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const data = new Uint8Array(readFileSync(process.argv[2]));
const doc = await getDocument({ data, verbosity: 0, useSystemFonts: false }).promise;
const pages = [];
const links = [];
for (let number = 1; number <= doc.numPages; number++) {
  const page = await doc.getPage(number);
  const content = await page.getTextContent();
  pages.push(content.items.map((item) => item.str + (item.hasEOL ? "\n" : "")).join(""));
  for (const annotation of await page.getAnnotations()) {
    if (annotation.subtype === "Link") {
      links.push([number, annotation.rect, annotation.url ?? JSON.stringify(annotation.dest ?? null)]);
    }
  }
}
process.stdout.write(JSON.stringify({ pages, links }));
