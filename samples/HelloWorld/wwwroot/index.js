// The frontend half of the hello-world server plugin (the pairing Luker describes: a frontend extension calls
// its server plugin with fetch). A page loads it from /plugins/hello-world/index.js, the URL the plugin catalog
// names as the plugin's entryScript.
export async function greet(target = document.body) {
  const response = await fetch('/api/plugins/hello-world/hello');
  if (!response.ok) {
    throw new Error(`Request failed: ${response.status}`);
  }
  const { message, time } = await response.json();
  const line = document.createElement('p');
  line.textContent = `${message} (${new Date(time).toLocaleTimeString()})`;
  target.append(line);
  return message;
}
