export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="#1f6f66" />
      <path d="M16 25c-5-3-8-6.5-8-10.5a4.5 4.5 0 0 1 8-2.8 4.5 4.5 0 0 1 8 2.8C24 18.5 21 22 16 25z" fill="#f4efe6" />
      <circle cx="16" cy="14" r="2.2" fill="#e9a23b" />
    </svg>
  );
}
