/** The two fields of a risk acceptance: until when, and why. */
export interface Acceptance {
  acceptedUntil: string;
  acceptanceReason: string;
}

export interface AcceptanceFieldsProps {
  /** Prefixes the inputs' ids (`accepted-until`, `acceptance-reason`). */
  idPrefix?: string;
  value: Acceptance;
  onChange: (value: Acceptance) => void;
  reasonLabel: string;
  /** The form refuses to submit a date without a reason. */
  requireReason?: boolean;
  reasonPlaceholder?: string;
}

/** The acceptance date and reason, shown while the status is ignored or by design. */
export function AcceptanceFields({ idPrefix = "", value, onChange, reasonLabel, requireReason, reasonPlaceholder }: AcceptanceFieldsProps) {
  return (
    <>
      <label>
        Accepted until
        <input
          type="date"
          id={`${idPrefix}accepted-until`}
          value={value.acceptedUntil}
          onInput={(e) => onChange({ ...value, acceptedUntil: (e.target as HTMLInputElement).value })}
        />
      </label>
      <label>
        {reasonLabel}
        <input
          type="text"
          id={`${idPrefix}acceptance-reason`}
          value={value.acceptanceReason}
          maxLength={1000}
          required={requireReason && value.acceptedUntil !== ""}
          placeholder={reasonPlaceholder}
          onInput={(e) => onChange({ ...value, acceptanceReason: (e.target as HTMLInputElement).value })}
        />
      </label>
    </>
  );
}
