"""Process owners' work on models: safe XML, validation rules, versions, migration, dry runs, drafts."""
