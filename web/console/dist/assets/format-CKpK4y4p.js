const r=new Intl.DateTimeFormat("en-GB",{dateStyle:"medium",timeStyle:"short"});function m(t){if(!t)return"";const e=new Date(t);return Number.isNaN(e.getTime())?t:r.format(e)}export{m as f};
