/**
 * The CSV line parser behind readCsv (graph-files.ts): a header row names the columns, fields
 * may be quoted (with line breaks inside quotes), and property columns take a declared type or
 * the type of their first non-empty value.
 */
import { EpochgraphError } from '../errors.js';
import {
  CSV_COLUMN_TYPES,
  type CsvColumnType,
  type CsvOptions,
  type GraphChunk,
} from './graph-file-types.js';
import { CH_QUOTE, ChunkSink, FLOAT_RE, isBlank } from './line-sinks.js';

const CSV_FIELD_START = 0;
const CSV_UNQUOTED = 1;
const CSV_QUOTED = 2;
const CSV_AFTER_QUOTE = 3;

/** A property column of a CSV file and its type, once known. */
interface CsvProp {
  name: string;
  index: number;
  type: CsvColumnType | null;
  values: (number | string | boolean | null)[];
}

export class CsvSink extends ChunkSink {
  private readonly delimiter: number;
  private readonly types: Record<string, CsvColumnType>;
  private header: string[] | null = null;
  private srcCol = -1;
  private dstCol = -1;
  private weightCol = -1;
  private props: CsvProp[] = [];
  // The record being read; it spans lines while a quoted field holds a line break.
  private fields: string[] = [];
  private field = '';
  private state = CSV_FIELD_START;
  private recordLine = 0;
  private quotedAny = false;

  constructor(file: string, options: CsvOptions) {
    super(file, options);
    const delim = options.delimiter ?? ',';
    if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `CSV delimiter must be one character other than a quote or line break`,
      );
    }
    this.delimiter = delim.charCodeAt(0);
    this.types = options.types ?? {};
    for (const [name, type] of Object.entries(this.types)) {
      if (!CSV_COLUMN_TYPES.includes(type)) {
        throw new EpochgraphError(
          'INVALID_REQUEST',
          `CSV column "${name}": type must be one of ${CSV_COLUMN_TYPES.join(', ')}, got ${String(type)}`,
        );
      }
    }
  }

  line(text: string, start: number, end: number, line: number): void {
    if (this.state === CSV_QUOTED) {
      // A line break inside quotes belongs to the field.
      this.field += '\n';
    } else {
      this.recordLine = line;
      this.quotedAny = false;
    }
    const delim = this.delimiter;
    let i = start;
    let runStart = start;
    while (i < end) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case CSV_FIELD_START:
          if (c === CH_QUOTE) {
            this.state = CSV_QUOTED;
            this.quotedAny = true;
            this.field = '';
            runStart = i + 1;
          } else if (c === delim) {
            this.fields.push('');
          } else if (!isBlank(c)) {
            this.state = CSV_UNQUOTED;
            runStart = i;
          }
          i++;
          break;
        case CSV_UNQUOTED:
          if (c === delim) {
            this.fields.push(text.slice(runStart, i).trim());
            this.state = CSV_FIELD_START;
          } else if (c === CH_QUOTE) {
            throw this.fail(line, `quote inside unquoted field ${this.fields.length + 1}`);
          }
          i++;
          break;
        case CSV_QUOTED: {
          const q = text.indexOf('"', i);
          if (q < 0 || q >= end) {
            this.field += text.slice(runStart, end);
            i = end;
            runStart = end;
            break;
          }
          this.field += text.slice(runStart, q);
          if (q + 1 < end && text.charCodeAt(q + 1) === CH_QUOTE) {
            this.field += '"';
            i = q + 2;
            runStart = i;
          } else {
            this.state = CSV_AFTER_QUOTE;
            i = q + 1;
          }
          break;
        }
        case CSV_AFTER_QUOTE:
          if (c === delim) {
            this.fields.push(this.field);
            this.field = '';
            this.state = CSV_FIELD_START;
          } else if (!isBlank(c)) {
            throw this.fail(
              line,
              `unexpected character after the closing quote of field ${this.fields.length + 1}`,
            );
          }
          i++;
          break;
      }
    }
    if (this.state === CSV_QUOTED) {
      if (runStart < end) this.field += text.slice(runStart, end);
      return;
    }
    // End of the record.
    if (this.state === CSV_UNQUOTED) this.fields.push(text.slice(runStart, end).trim());
    else if (this.state === CSV_AFTER_QUOTE) this.fields.push(this.field);
    else if (this.fields.length > 0) this.fields.push(''); // a trailing delimiter: one more, empty field
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    this.state = CSV_FIELD_START;
    if (fields.length === 0 && !this.quotedAny) return; // blank line
    this.record(fields, this.recordLine);
  }

  override finish(lastLine: number): void {
    if (this.state === CSV_QUOTED) {
      throw this.fail(lastLine, `unterminated quoted field (opened on line ${this.recordLine})`);
    }
    if (this.header === null) throw this.fail(Math.max(lastLine, 1), 'no header row');
  }

  private record(fields: string[], line: number): void {
    if (this.header === null) {
      this.readHeader(fields, line);
      return;
    }
    const header = this.header;
    if (fields.length !== header.length) {
      throw this.fail(line, `expected ${header.length} fields (${header.join(',')}), got ${fields.length}`);
    }
    this.touch(line);
    const s = fields[this.srcCol];
    const d = fields[this.dstCol];
    if (s.length === 0) throw this.fail(line, 'empty src');
    if (d.length === 0) throw this.fail(line, 'empty dst');
    this.src.push(this.id(s, 0, s.length, line));
    this.dst.push(this.id(d, 0, d.length, line));
    if (this.weightCol >= 0) {
      const w = fields[this.weightCol];
      this.weights.push(w.length === 0 ? Number.NaN : this.weight(w, 0, w.length, line));
    }
    for (const p of this.props) p.values.push(this.propValue(p, fields[p.index], line));
  }

  private readHeader(fields: string[], line: number): void {
    const names = fields.map((f) => f.trim());
    const seen = new Set<string>();
    for (const name of names) {
      if (name.length === 0) throw this.fail(line, 'empty column name in the header');
      if (seen.has(name)) throw this.fail(line, `column "${name}" appears twice in the header`);
      seen.add(name);
    }
    this.srcCol = names.indexOf('src');
    this.dstCol = names.indexOf('dst');
    this.weightCol = names.indexOf('weight');
    if (this.srcCol < 0 || this.dstCol < 0) {
      const missing = this.srcCol < 0 ? 'src' : 'dst';
      throw this.fail(line, `the header has no "${missing}" column (columns: ${names.join(', ')})`);
    }
    this.header = names;
    this.props = [];
    names.forEach((name, index) => {
      if (index === this.srcCol || index === this.dstCol || index === this.weightCol) return;
      this.props.push({ name, index, type: this.types[name] ?? null, values: [] });
    });
  }

  private propValue(p: CsvProp, raw: string, line: number): number | string | boolean | null {
    if (raw.length === 0) return null;
    if (p.type === null) p.type = inferType(raw);
    switch (p.type) {
      case 'string':
        return raw;
      case 'number':
        if (!FLOAT_RE.test(raw)) throw this.fail(line, `column "${p.name}" holds numbers, got "${raw}"`);
        return Number(raw);
      case 'boolean': {
        const lower = raw.toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
        throw this.fail(line, `column "${p.name}" holds booleans, got "${raw}"`);
      }
    }
  }

  protected override takeExtra(chunk: GraphChunk): void {
    if (this.props.length === 0) return;
    const props: Record<string, (number | string | boolean | null)[]> = {};
    for (const p of this.props) {
      props[p.name] = p.values;
      p.values = [];
    }
    chunk.props = props;
  }
}

function inferType(raw: string): CsvColumnType {
  if (FLOAT_RE.test(raw)) return 'number';
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === 'false') return 'boolean';
  return 'string';
}
