/** A place in a definitions file, for messages of the form file:line:column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}
