/**
 * The condition tree in react-querybuilder (lazy-loaded with its CSS: the heaviest part of the
 * editor). Its query is this component's own state, mapped to our tree on every change
 * (conditions.ts), so react-querybuilder keeps its ids and focus while one types.
 */
import { useId, useState, type ChangeEvent } from 'react';
import {
  QueryBuilder,
  type FieldSelectorProps,
  type RuleGroupType,
  type ValueEditorProps,
  type ValueSelectorProps,
} from 'react-querybuilder';
import 'react-querybuilder/dist/query-builder.css';
import { fromQuery, OPERATORS, textToValue, toQuery, valueToText, type ConditionTree } from '../conditions';

/** The rule's own editor lists the facts and paths here; the Key field offers them too. */
const FIELDS_LIST = 'condition-fields';

/** What the editor's controls are named after: `scope` tells two editors on one page apart. */
interface Context {
  scope?: string;
  fieldsList: string;
}

/** `condition 1.2`, or `Cancel on job.cancelled, condition 1.2` in a scoped editor. */
function where(path: number[], context: unknown, group = 'top group') {
  const { scope } = context as Context;
  const at = path.length ? `condition ${path.map((i) => i + 1).join('.')}` : group;
  return scope ? `${scope}, ${at}` : at;
}

function FieldInput({ value, handleOnChange, disabled, path, context }: FieldSelectorProps) {
  return (
    <input
      className="rqb-field"
      list={(context as Context).fieldsList}
      aria-label={`Fact and path (${where(path, context)})`}
      value={value ?? ''}
      disabled={disabled}
      spellCheck={false}
      onChange={(e: ChangeEvent<HTMLInputElement>) => handleOnChange(e.target.value)}
    />
  );
}

/** react-querybuilder's own selects carry only a title, which axe (rightly) finds too weak a label. */
function LabelledSelect({
  value,
  options,
  handleOnChange,
  disabled,
  title,
  path,
  context,
}: ValueSelectorProps) {
  return (
    <select
      aria-label={`${title ?? 'Choice'} (${where(path, context)})`}
      value={value ?? ''}
      disabled={disabled}
      onChange={(e) => handleOnChange(e.target.value)}
    >
      {(options as { name: string; label: string }[]).map((o) => (
        <option key={o.name} value={o.name}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

function ValueInput({ value, handleOnChange, disabled, path, context }: ValueEditorProps) {
  // The text as typed (`2500` and `"2500"` differ); the rule holds the value it reads as.
  const [text, setText] = useState(() => valueToText(value ?? ''));
  return (
    <input
      className="rqb-value"
      aria-label={`Value (${where(path, context)})`}
      value={text}
      disabled={disabled}
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        handleOnChange(textToValue(e.target.value));
      }}
    />
  );
}

export default function ConditionsEditor({
  initial,
  fields,
  disabled,
  scope,
  onChange,
}: {
  initial: ConditionTree;
  fields: { name: string; label: string }[];
  disabled?: boolean;
  /** Names this editor's controls apart from the rule's own conditions (e.g. a cancelling event's). */
  scope?: string;
  onChange: (tree: ConditionTree) => void;
}) {
  const [query, setQuery] = useState(() => toQuery(initial) as RuleGroupType);
  const scopedList = useId();
  const listId = scope ? scopedList : FIELDS_LIST;
  const context: Context = { scope, fieldsList: listId };
  return (
    <div className="conditions">
      <datalist id={listId}>
        {fields.map((f) => (
          <option key={f.name} value={f.name} />
        ))}
      </datalist>
      <QueryBuilder
        query={query}
        onQueryChange={(q) => {
          setQuery(q);
          onChange(fromQuery(q as Parameters<typeof fromQuery>[0]));
        }}
        fields={fields.length ? fields : [{ name: 'event.name', label: 'event.name' }]}
        operators={OPERATORS.map((o) => ({ ...o }))}
        combinators={[
          { name: 'and', label: 'all of (and)' },
          { name: 'or', label: 'any of (or)' },
        ]}
        showNotToggle
        disabled={disabled}
        context={context}
        getDefaultValue={() => ''}
        controlElements={{
          fieldSelector: FieldInput,
          valueEditor: ValueInput,
          operatorSelector: LabelledSelect,
          combinatorSelector: LabelledSelect,
        }}
        translations={{
          addRule: { label: 'Add condition', title: 'Add condition' },
          addGroup: { label: 'Add group', title: 'Add group' },
          removeRule: { label: 'Remove', title: 'Remove condition' },
          removeGroup: { label: 'Remove group', title: 'Remove group' },
          notToggle: { label: 'Not', title: 'Negate this group' },
          combinators: { title: 'Combine with' },
          operators: { title: 'Operator' },
        }}
      />
      <p className="field-hint">
        Fact and path as in templates: <code>job.status</code>,{' '}
        <code>job.client[&apos;first name&apos;]</code>. Values are text as typed; numbers, <code>true</code>/
        <code>false</code>, <code>null</code> and lists (<code>[&quot;a&quot;, &quot;b&quot;]</code> for “is
        one of”) are read as JSON; quote text that looks like one (<code>&quot;2500&quot;</code>).
      </p>
    </div>
  );
}
