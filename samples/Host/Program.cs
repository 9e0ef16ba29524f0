// The sample host: any ASP.NET Core app composes the plugin packages it references with two calls.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPlugins(builder.Configuration);

var app = builder.Build();
app.MapServerPlugins(); // GET /api/plugins/hello-world/hello, /api/plugins/llm-proxy/status, ...
app.Run();
