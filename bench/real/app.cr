# app.cr -- a Crystal program for the "Crystal compile" benchmark row: it
# pulls in JSON, YAML, an HTTP server and option parsing, so that
# compiling it types and generates code for a large part of the standard
# library.  Running it prints a checksum of its own work.
require "json"
require "yaml"
require "http/server"
require "option_parser"

record Item, name : String, qty : Int32 do
  include JSON::Serializable
  include YAML::Serializable
end

verbose = false
OptionParser.parse(ARGV) do |parser|
  parser.on("-v", "--verbose", "Print every item") { verbose = true }
end

items = (1..1000).map { |i| Item.new("item#{i}", i % 17) }
back = Array(Item).from_json(items.to_json)
yaml = back.first(10).to_yaml
total = back.sum(&.qty)
server = HTTP::Server.new { |ctx| ctx.response.print total }
back.each { |item| puts item.name } if verbose
puts "#{back.size} #{total} #{yaml.lines.size} #{server.class}"
