// Imported by a worker the first time it runs acme.greet.
export default async function greet(payload, ctx) {
  await ctx.progress(50, 'greeting');
  return { greeting: `hello, ${payload.name}`, attempt: ctx.attempt };
}
