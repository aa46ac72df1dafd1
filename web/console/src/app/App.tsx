export function App() {
  return <main>policyresults</main>;
}
